-- One statement: pick due rows (the head of each ordering key only) and lease them; SKIP LOCKED, so
-- concurrent relayers take disjoint batches without waiting. Bound: owner, lease (ms) twice, limit.
UPDATE outbox_events SET lease_owner = ?, lease_expires_at = {{now-plus-ms}}, next_attempt_at = {{now-plus-ms}} WHERE seq IN (SELECT e.seq FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= clock_timestamp() {{head-of-key}}{{types}} ORDER BY e.next_attempt_at, e.seq LIMIT ? FOR UPDATE SKIP LOCKED) RETURNING {{event-columns}}
