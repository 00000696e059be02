-- One batch of 100 with a narrow queue row per undelivered event: the claim leases queue rows and reads the
-- event rows, the write-back deletes the queue rows and appends narrow outcome rows. See measure.sh.
WITH c AS (UPDATE outbox_queue SET lease_owner = 'r1', lease_expires_at = now() + interval '1 hour', next_attempt_at = now() + interval '1 hour' WHERE seq = ANY(ARRAY(SELECT q.seq FROM outbox_queue q WHERE q.next_attempt_at <= clock_timestamp() ORDER BY q.next_attempt_at, q.seq LIMIT 100 FOR UPDATE SKIP LOCKED)) RETURNING seq), e AS (SELECT e.* FROM outbox_events e WHERE e.seq IN (SELECT seq FROM c)) SELECT array_agg(seq) AS s, sum(length(e.data)) AS b FROM e
\gset
WITH d AS (DELETE FROM outbox_queue WHERE seq = ANY(CAST(:s AS bigint[])) AND lease_owner = 'r1' RETURNING seq) INSERT INTO outbox_sent (seq, sent_at, http_status, duration_ms, relayer) SELECT seq, now(), 202, 1, 'r1' FROM d;
