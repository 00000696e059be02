-- Version 3: the successful attempt is kept on the event row (its duration and relayer beside sent_at and
-- last_http_status) instead of a row of its own in outbox_attempts; Storage::attempts() shows it. Only
-- attempts that did not deliver get rows, which took a quarter of the relayer's database work.
ALTER TABLE outbox_events ADD COLUMN last_duration_ms INTEGER;

ALTER TABLE outbox_events ADD COLUMN last_relayer TEXT
