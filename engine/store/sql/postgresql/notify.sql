SELECT pg_notify('outbox_events', '')
