-- The pending events an owner holds (a relayer about to stop), by their queue rows (schema version 10). A plain
-- read: no row is locked by it. Bound: owner.
SELECT seq FROM outbox_queue WHERE lease_owner = ?
