-- Per-key ordering in the claim: only the head (the earliest unsent event) of an ordering key is due.
-- (Leading white space of a file is dropped: where this is inlined, a space is written before it.)
 AND (e.ordering_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key = e.ordering_key AND p.status <> 'sent' AND p.seq < e.seq))
