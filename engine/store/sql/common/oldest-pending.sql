SELECT created_at FROM outbox_events WHERE status = 'pending' ORDER BY seq LIMIT 1
