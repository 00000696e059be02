DELETE FROM outbox_attempts WHERE event_seq IN (SELECT seq FROM outbox_events WHERE id IN {{id-list}})
