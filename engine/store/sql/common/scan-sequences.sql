SELECT seq FROM outbox_events{{where}} ORDER BY {{order}}
