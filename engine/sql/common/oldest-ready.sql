-- The creation time of the oldest event a relayer would take now (see count-due.sql).
SELECT e.created_at FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= ? {{head-of-key}} ORDER BY e.seq LIMIT 1
