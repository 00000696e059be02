-- As event-columns.sql, without the data.
seq, id, type, source, subject, content_type, NULL, extensions, ordering_key, status, attempts, {{pending-lease-columns}}, last_error, last_http_status, {{ms-created-at}}, {{ms-sent-at}}, replay_of
