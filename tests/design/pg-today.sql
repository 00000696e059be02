-- One batch of 100 as the engine relays it from PostgreSQL today: the claim rewrites each event row (lease),
-- the write-back rewrites it again (status sent). pgbench script; see measure.sh.
WITH c AS (UPDATE outbox_events SET lease_owner = 'r1', lease_expires_at = now() + interval '1 hour', next_attempt_at = now() + interval '1 hour' WHERE seq = ANY(ARRAY(SELECT e.seq FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= clock_timestamp() ORDER BY e.next_attempt_at, e.seq LIMIT 100 FOR UPDATE SKIP LOCKED)) RETURNING *) SELECT array_agg(seq) AS s, sum(length(data)) AS b FROM c
\gset
UPDATE outbox_events SET status = 'sent', sent_at = now(), attempts = attempts + 1, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now() WHERE seq = ANY(CAST(:s AS bigint[]));
