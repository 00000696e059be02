SELECT COUNT(*) FROM outbox_events WHERE status = 'pending' AND lease_owner IS NOT NULL AND lease_expires_at > ?
