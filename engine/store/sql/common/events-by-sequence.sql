SELECT {{columns}} FROM outbox_events WHERE {{seq-in-list}}
