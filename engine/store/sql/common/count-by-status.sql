SELECT status, COUNT(*) FROM outbox_events GROUP BY status
