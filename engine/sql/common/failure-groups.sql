-- The failed events per type, HTTP status and error text, with the first and last failure (a failed row's
-- next_attempt_at is the time of its last attempt). The engine then merges texts of one cause.
SELECT type, last_http_status, last_error, COUNT(*), MIN(next_attempt_at), MAX(next_attempt_at) FROM outbox_events{{where}} GROUP BY type, last_http_status, last_error
