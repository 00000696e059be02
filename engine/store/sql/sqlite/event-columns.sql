-- The columns of an event row, in the order eventFromQuery reads them; the payload from the row's own data
-- column, or from outbox_payloads when that is empty (schema version 9). FROM outbox_events, unaliased.
seq, id, type, source, subject, content_type, CASE WHEN length(outbox_events.data) > 0 THEN outbox_events.data ELSE COALESCE((SELECT p.data FROM outbox_payloads p WHERE p.seq = outbox_events.seq), x'') END, extensions, ordering_key, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_error, last_http_status, created_at, sent_at, replay_of
