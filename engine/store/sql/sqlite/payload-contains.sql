-- Byte-wise: a payload need not be valid text. The payload where schema version 9 keeps it.
instr(CAST(CASE WHEN length(outbox_events.data) > 0 THEN outbox_events.data ELSE COALESCE((SELECT p.data FROM outbox_payloads p WHERE p.seq = outbox_events.seq), x'') END AS BLOB), ?) > 0
