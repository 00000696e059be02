-- As common/failure-groups.sql, by the whole error text: SQLite reads an indexed expression back from the
-- table, but a plain column from the index itself (outbox_events_failures, schema version 6).
SELECT type, last_http_status, last_error, COUNT(*), MIN(next_attempt_at), MAX(next_attempt_at) FROM outbox_events{{where}} GROUP BY type, last_http_status, last_error
