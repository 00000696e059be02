-- The leases of pending events, on their queue rows (schema version 10), per owner.
SELECT lease_owner, COUNT(*), MAX(lease_expires_at) FROM outbox_queue WHERE lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner
