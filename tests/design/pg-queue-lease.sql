-- One batch of 100 with the queue row for the claim alone: the claim leases narrow queue rows, the write-back
-- deletes them and still rewrites each event row (status sent), so readers of the row's status could stay as
-- they are. See measure.sh.
WITH c AS (UPDATE outbox_queue SET lease_owner = 'r1', lease_expires_at = now() + interval '1 hour', next_attempt_at = now() + interval '1 hour' WHERE seq = ANY(ARRAY(SELECT q.seq FROM outbox_queue q WHERE q.next_attempt_at <= clock_timestamp() ORDER BY q.next_attempt_at, q.seq LIMIT 100 FOR UPDATE SKIP LOCKED)) RETURNING seq), e AS (SELECT e.* FROM outbox_events e WHERE e.seq IN (SELECT seq FROM c)) SELECT array_agg(seq) AS s, sum(length(data)) AS b FROM e
\gset
WITH d AS (DELETE FROM outbox_queue WHERE seq = ANY(CAST(:s AS bigint[])) AND lease_owner = 'r1' RETURNING seq) UPDATE outbox_events SET status = 'sent', sent_at = now(), attempts = attempts + 1, lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = now(), last_http_status = 202, last_duration_ms = 1, last_relayer = 'r1' WHERE seq = ANY(ARRAY(SELECT seq FROM d));
