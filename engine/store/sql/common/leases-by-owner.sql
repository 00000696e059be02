SELECT lease_owner, COUNT(*), MAX(lease_expires_at) FROM outbox_events WHERE status = 'pending' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner
