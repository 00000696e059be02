SELECT {{event-columns}} FROM outbox_events WHERE id = ?
