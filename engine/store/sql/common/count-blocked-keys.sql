SELECT COUNT(DISTINCT ordering_key) FROM outbox_events WHERE status = 'failed' AND ordering_key IS NOT NULL
