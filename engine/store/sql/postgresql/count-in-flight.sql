-- Pending events under a live lease: their queue rows (schema version 10).
SELECT COUNT(*) FROM outbox_queue WHERE lease_owner IS NOT NULL AND lease_expires_at > ?
