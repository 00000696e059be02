-- The times of the newest events sent since a moment (Storage::deliveryHistory). Bound: lowest sequence
-- excluded, since.
SELECT sent_at FROM outbox_events WHERE seq > ? AND status = 'sent' AND sent_at >= ?
