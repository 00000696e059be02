-- The columns of an event row (see common/event-columns.sql), a pending event's lease from its queue row
-- (pending-lease-columns.sql).
seq, id, type, source, subject, content_type, {{event-data}}, extensions, ordering_key, status, attempts, {{pending-lease-columns}}, last_error, last_http_status, {{ms-created-at}}, {{ms-sent-at}}, replay_of
