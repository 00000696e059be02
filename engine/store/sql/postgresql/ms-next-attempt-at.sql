-- next_attempt_at in milliseconds since the epoch (see event-columns.sql).
CAST(EXTRACT(EPOCH FROM next_attempt_at) * 1000 AS BIGINT)
