SELECT event_id FROM outbox_events WHERE status IN ({{statuses}}) AND {{age}} < {{time}} LIMIT ?
