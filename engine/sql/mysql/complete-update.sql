-- The results as one JSON array of objects: s seq, t status, n next attempt (ms), e error, h http status,
-- a sent at (ms), d duration. The results first, then each row by its primary key (STRAIGHT_JOIN): MariaDB
-- otherwise read the whole table first, locking every row for a moment, and a relayer claiming beside it
-- skipped them all.
UPDATE JSON_TABLE(?, '$[*]' COLUMNS (s BIGINT PATH '$.s', t VARCHAR(16) PATH '$.t', n BIGINT PATH '$.n', e LONGTEXT CHARACTER SET utf8mb4 PATH '$.e', h INT PATH '$.h', a BIGINT PATH '$.a', d BIGINT PATH '$.d')) AS r STRAIGHT_JOIN outbox_events o ON o.seq = r.s SET o.status = r.t, o.attempts = o.attempts + 1, o.next_attempt_at = TIMESTAMPADD(MICROSECOND, r.n * 1000, '1970-01-01'), o.lease_owner = NULL, o.lease_expires_at = NULL, o.last_error = r.e, o.last_http_status = r.h, o.sent_at = COALESCE(TIMESTAMPADD(MICROSECOND, r.a * 1000, '1970-01-01'), o.sent_at), o.last_duration_ms = r.d, o.last_relayer = ? WHERE o.lease_owner = ?
