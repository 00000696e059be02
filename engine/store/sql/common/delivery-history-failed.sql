-- The attempts that failed the newest events for good since a moment (Storage::deliveryHistory), by the
-- history's index on event_seq. Bound: lowest sequence excluded, since.
SELECT a.attempted_at FROM outbox_attempts a WHERE a.event_seq > ? AND a.outcome = 'failed' AND a.attempted_at >= ?
