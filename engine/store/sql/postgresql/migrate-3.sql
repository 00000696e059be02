ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS last_duration_ms BIGINT;

ALTER TABLE outbox_events ADD COLUMN IF NOT EXISTS last_relayer TEXT
