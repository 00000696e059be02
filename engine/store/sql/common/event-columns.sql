-- The columns of an event row, in the order eventFromQuery reads them (FROM outbox_events, unaliased).
seq, id, type, source, subject, content_type, {{event-data}}, extensions, ordering_key, status, attempts, next_attempt_at, lease_owner, lease_expires_at, last_error, last_http_status, created_at, sent_at, replay_of
