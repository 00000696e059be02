-- An event's payload, in a statement on outbox_events (unaliased): the row's own data column, or the payload
-- row in outbox_payloads when that is empty (schema version 9, see migrate-9.sql).
CASE WHEN length(outbox_events.data) > 0 THEN outbox_events.data ELSE COALESCE((SELECT p.data FROM outbox_payloads p WHERE p.seq = outbox_events.seq), x'') END
