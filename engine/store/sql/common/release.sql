UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? WHERE lease_owner = ? AND status = 'pending' AND {{seq-in-list}}
