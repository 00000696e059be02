-- The database's clock decides leases, so relayers on hosts with skewed clocks agree. Only the queue rows
-- (schema version 10) are rewritten.
UPDATE outbox_queue SET lease_expires_at = {{now-plus-ms}}, next_attempt_at = {{now-plus-ms}} WHERE lease_owner = ? AND {{seq-in-list}}
