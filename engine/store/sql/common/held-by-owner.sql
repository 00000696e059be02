-- The events an owner holds (a relayer about to stop). A plain read: no row is locked by it. Bound: owner.
SELECT seq FROM outbox_events WHERE lease_owner = ? AND status = 'pending'
