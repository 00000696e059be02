SELECT DISTINCT ordering_key FROM outbox_events WHERE status = 'failed' AND ordering_key IS NOT NULL ORDER BY ordering_key LIMIT 1000
