-- lease_expires_at in milliseconds since the epoch (see event-columns.sql).
CAST(EXTRACT(EPOCH FROM lease_expires_at) * 1000 AS BIGINT)
