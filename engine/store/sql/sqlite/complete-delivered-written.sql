-- After complete-delivered-same.sql wrote fewer rows than the batch: which it wrote, known by what it wrote
-- into them (sent by this owner at that time, no lease). Bound: the sequences, owner, attempted at.
SELECT seq FROM outbox_events WHERE seq IN (SELECT value FROM json_each(?1)) AND status = 'sent' AND lease_owner IS NULL AND last_relayer = ?2 AND sent_at = ?3
