-- The oldest event a relayer would take now (see count-due.sql): its creation, and when it became due (its
-- creation, or the time a retry or an operator made it due again).
SELECT e.created_at, e.next_attempt_at FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= ? {{head-of-key}} ORDER BY e.seq LIMIT 1
