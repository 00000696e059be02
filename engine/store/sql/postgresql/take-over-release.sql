-- Due at once and ahead of the backlog: they were due before it (their creation time puts them back in their
-- place in the due order). The leases are on the queue rows (schema version 10).
UPDATE outbox_queue q SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = e.created_at FROM outbox_events e WHERE e.seq = q.seq AND q.lease_owner = ?
