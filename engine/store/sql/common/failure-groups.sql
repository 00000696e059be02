-- The failed events per type, HTTP status and error text (its first 200 characters), with the first and last
-- failure (a failed row's next_attempt_at is the time of its last attempt); {{where}} starts with the literal
-- status = 'failed', so the partial index outbox_events_failures (schema version 6) answers it alone. The
-- engine then merges the texts of one cause.
SELECT type, last_http_status, substr(last_error, 1, 200), COUNT(*), MIN(next_attempt_at), MAX(next_attempt_at) FROM outbox_events{{where}} GROUP BY type, last_http_status, substr(last_error, 1, 200)
