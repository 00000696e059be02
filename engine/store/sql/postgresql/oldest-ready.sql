-- The oldest event a relayer would take now (see count-due.sql): its creation, and when it became due (its
-- creation, or the time a retry or an operator made it due again), from its queue row (aliased e, as there).
SELECT (SELECT c.created_at FROM outbox_events c WHERE c.seq = e.seq), e.next_attempt_at FROM outbox_queue e WHERE e.next_attempt_at <= ? {{head-of-key}} ORDER BY e.seq LIMIT 1
