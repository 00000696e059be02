-- Per-key ordering in the claim: only the head (the earliest unsent event) of an ordering key is due. Two
-- probes of the (ordering_key, status, seq) index instead of one "status <> 'sent'": MariaDB does not make
-- ranges of an inequality there, and walked every sent event of the key for every candidate.
 AND (e.ordering_key IS NULL OR (NOT EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key = e.ordering_key AND p.status = 'pending' AND p.seq < e.seq) AND NOT EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key = e.ordering_key AND p.status = 'failed' AND p.seq < e.seq)))
