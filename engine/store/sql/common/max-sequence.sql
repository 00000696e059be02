SELECT COALESCE(MAX(seq), 0) FROM outbox_events
