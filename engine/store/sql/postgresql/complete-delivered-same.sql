-- Every event of the batch delivered at one time with the same answer (one request): the values bound once,
-- the sequences as an array, instead of complete-update.sql's JSON table of results joined to the rows.
-- Bound: the sequences ('{1,2,…}'), the relayer (the owner whose leases are written, and last_relayer),
-- attempted at (ms), http status (or NULL), duration. As complete-update.sql: only events this relayer holds
-- are written (a pending event by its queue row, deleted here; a failed one taken for one delivery by the
-- lease on its own row), and their sequences come back.
WITH p AS (SELECT CAST(? AS bigint[]) AS seqs, CAST(? AS text) AS owner, to_timestamp(CAST(? AS bigint) / 1000.0) AS at, CAST(? AS int) AS h, CAST(? AS bigint) AS d), done AS (DELETE FROM outbox_queue q WHERE q.seq = ANY(CAST((SELECT seqs FROM p) AS bigint[])) AND q.lease_owner = (SELECT owner FROM p) RETURNING q.seq) UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, next_attempt_at = p.at, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = p.h, sent_at = p.at, last_duration_ms = p.d, last_relayer = p.owner FROM p WHERE outbox_events.seq = ANY(CAST((SELECT seqs FROM p) AS bigint[])) AND (outbox_events.seq IN (SELECT seq FROM done) OR (outbox_events.status = 'failed' AND outbox_events.lease_owner = p.owner)) RETURNING outbox_events.seq
