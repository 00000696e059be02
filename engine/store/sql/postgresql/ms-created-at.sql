-- created_at in milliseconds since the epoch (see event-columns.sql).
CAST(EXTRACT(EPOCH FROM created_at) * 1000 AS BIGINT)
