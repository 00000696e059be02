-- Not a row a relayer is sending now.
DELETE FROM outbox_events WHERE status <> 'processing' AND event_id IN ({{ids}})
