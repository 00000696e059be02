-- The rows of the batch this owner still holds, locked until the results are written.
SELECT seq FROM outbox_events WHERE lease_owner = ? AND seq IN {{sequence-list}} FOR UPDATE
