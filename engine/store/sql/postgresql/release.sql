-- Leases given back: the queue rows (schema version 10) due again at the bound time. Bound: time, owner, list.
UPDATE outbox_queue SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? WHERE lease_owner = ? AND {{seq-in-list}}
