-- The rows of the batch this owner still holds, locked until the results are written (by the primary key
-- only, as in claim-lock.sql).
SELECT seq FROM outbox_events FORCE INDEX (PRIMARY) WHERE lease_owner = ? AND {{seq-in-list}} FOR UPDATE
