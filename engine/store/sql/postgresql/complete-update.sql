-- The results as one JSON array of objects: s seq, t status, n next attempt (ms), e error, h http status,
-- a sent at (ms), d duration, c counted (1, or 0: the target was unavailable; the attempt is not charged).
-- Bound: the relayer (written as last_relayer), the results, the relayer (whose leases are written). The rows
-- are found through = ANY of the array of their sequences: joined to the results directly, the planner counted
-- on the function's default of 100 rows and, on a table of tens of thousands, scanned all of it on every
-- write-back (2.5 ms for one row of 10,000; 0.1 ms this way).
WITH p AS (SELECT CAST(? AS text) AS relayer, CAST(? AS jsonb) AS j), r AS (SELECT x.* FROM p, jsonb_to_recordset(p.j) AS x(s bigint, t text, n bigint, e text, h int, a bigint, d bigint, c int)) UPDATE outbox_events SET status = r.t, attempts = attempts + r.c, next_attempt_at = to_timestamp(r.n / 1000.0), lease_owner = NULL, lease_expires_at = NULL, last_error = r.e, last_http_status = r.h, sent_at = COALESCE(to_timestamp(r.a / 1000.0), sent_at), last_duration_ms = r.d, last_relayer = (SELECT relayer FROM p) FROM r WHERE outbox_events.seq = ANY(ARRAY(SELECT s FROM r)) AND outbox_events.seq = r.s AND outbox_events.lease_owner = ? RETURNING outbox_events.seq
