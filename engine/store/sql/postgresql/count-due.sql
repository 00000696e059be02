-- The pending events due now that a relayer would take: their queue rows (schema version 10) not leased (a
-- lease moves next_attempt_at to its expiry), each the head of its ordering key (head-of-key.sql: the servers
-- do not park the others). The queue is aliased e: it carries the key.
SELECT COUNT(*) FROM outbox_queue e WHERE e.next_attempt_at <= ? {{head-of-key}}
