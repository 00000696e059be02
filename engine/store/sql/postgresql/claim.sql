-- One statement: pick due rows of the queue (the head of each ordering key only) and lease them; SKIP LOCKED,
-- so concurrent relayers take disjoint batches without waiting. Only the narrow queue rows are rewritten
-- (schema version 10); the events are read beside them. The queue is aliased e because it carries the key
-- and the type that head-of-key.sql and {{types}} name. Bound: owner, lease (ms) twice, limit. The rows are
-- found through = ANY of an array of their sequences: as IN (subquery) or a plain join the planner joined
-- them to the table with a scan of all of it (2.5 ms per claim with 10,000 rows). The columns are those of
-- event-columns.sql, with the lease and due time of the queue row just written. Only pending events: the
-- triggers of version 10 keep the queue so, and this is the last guard against sending one that is not.
WITH c AS (UPDATE outbox_queue SET lease_owner = ?, lease_expires_at = {{now-plus-ms}}, next_attempt_at = {{now-plus-ms}} WHERE seq = ANY(ARRAY(SELECT e.seq FROM outbox_queue e WHERE e.next_attempt_at <= clock_timestamp() {{head-of-key}}{{types}} ORDER BY e.next_attempt_at, e.seq LIMIT ? FOR UPDATE SKIP LOCKED)) RETURNING seq, next_attempt_at, lease_owner, lease_expires_at) SELECT e.seq, e.id, e.type, e.source, e.subject, e.content_type, e.data, e.extensions, e.ordering_key, e.status, e.attempts, CAST(EXTRACT(EPOCH FROM c.next_attempt_at) * 1000 AS BIGINT), c.lease_owner, CAST(EXTRACT(EPOCH FROM c.lease_expires_at) * 1000 AS BIGINT), e.last_error, e.last_http_status, CAST(EXTRACT(EPOCH FROM e.created_at) * 1000 AS BIGINT), CAST(EXTRACT(EPOCH FROM e.sent_at) * 1000 AS BIGINT), e.replay_of FROM outbox_events e JOIN c ON c.seq = e.seq WHERE e.seq = ANY(ARRAY(SELECT seq FROM c)) AND e.status = 'pending'
