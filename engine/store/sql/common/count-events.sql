SELECT COUNT(*) FROM outbox_events{{where}}
