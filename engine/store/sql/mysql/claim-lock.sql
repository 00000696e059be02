-- Step 2: lock up to `limit` of those still due, skipping rows another relayer is claiming (no subquery here: a
-- locking read would lock, or skip, the rows a subquery reads too). By the primary key only: through a
-- secondary index the read locked other rows of the range for a moment, and a relayer claiming beside it
-- skipped them all. Bound (inlined): limit.
SELECT seq FROM outbox_events FORCE INDEX (PRIMARY) WHERE {{seq-in-list}} AND status = 'pending' AND next_attempt_at <= NOW(3) ORDER BY seq LIMIT ? FOR UPDATE SKIP LOCKED
