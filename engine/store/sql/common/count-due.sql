-- The pending events due now that a relayer would take: not leased (a lease moves next_attempt_at to its
-- expiry), and each the head of its ordering key (head-of-key.sql: the servers do not park the others).
SELECT COUNT(*) FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= ? {{head-of-key}}
