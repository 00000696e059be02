-- The pending events that wait behind an earlier unsent event of their ordering key: the pending events with
-- a key, less the keys whose earliest unsent event is pending (that one is not waiting). Both read the key
-- index (its condition written out, so the planner knows it applies).
SELECT (SELECT COUNT(*) FROM outbox_events WHERE ordering_key IS NOT NULL AND status <> 'sent' AND status = 'pending') - (SELECT COUNT(*) FROM (SELECT MIN(seq) AS head FROM outbox_events WHERE ordering_key IS NOT NULL AND status <> 'sent' GROUP BY ordering_key) h JOIN outbox_events e ON e.seq = h.head WHERE e.status = 'pending')
