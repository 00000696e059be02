-- Version 8: the operators' actions by time (see sqlite/migrate-8.sql).
CREATE INDEX IF NOT EXISTS outbox_attempts_operator ON outbox_attempts(outcome, attempted_at)
