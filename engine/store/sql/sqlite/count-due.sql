-- As common/count-due.sql: SQLite parks an event behind its key's head (next_attempt_at 9999-12-31), so the
-- due index alone counts them.
SELECT COUNT(*) FROM outbox_events WHERE status = 'pending' AND next_attempt_at <= ?
