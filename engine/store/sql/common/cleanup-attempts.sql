-- {{statuses}}: the quoted status names. Bound: the cut-off time, the batch size.
DELETE FROM outbox_attempts WHERE event_seq IN (SELECT seq FROM outbox_events WHERE status IN ({{statuses}}) AND created_at < ? ORDER BY seq LIMIT ?)
