DELETE FROM outbox_events WHERE id IN {{id-list}}
