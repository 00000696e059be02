SELECT id FROM outbox_events WHERE seq IN {{sequence-list}}
