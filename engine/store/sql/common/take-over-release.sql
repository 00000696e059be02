-- Due at once and ahead of the backlog: they were due before it (their creation time puts them back in their
-- place in the due order).
UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = created_at WHERE lease_owner = ? AND status = 'pending'
