-- Step 2: lock those still due, skipping rows another relayer is claiming (no subquery here: a locking read
-- would lock, or skip, the rows a subquery reads too).
SELECT seq FROM outbox_events WHERE seq IN {{sequence-list}} AND status = 'pending' AND next_attempt_at <= NOW(3) FOR UPDATE SKIP LOCKED
