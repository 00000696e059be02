SELECT id FROM outbox_events WHERE {{seq-in-list}}
