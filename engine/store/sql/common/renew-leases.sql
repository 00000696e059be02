-- The database's clock decides leases, so relayers on hosts with skewed clocks agree.
UPDATE outbox_events SET lease_expires_at = {{now-plus-ms}}, next_attempt_at = {{now-plus-ms}} WHERE lease_owner = ? AND status = 'pending' AND {{seq-in-list}}
