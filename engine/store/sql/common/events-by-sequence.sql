SELECT {{columns}} FROM outbox_events WHERE seq IN {{sequence-list}}
