DELETE FROM outbox_events WHERE seq IN (SELECT seq FROM outbox_events WHERE status IN ({{statuses}}) AND created_at < ? ORDER BY seq LIMIT ?)
