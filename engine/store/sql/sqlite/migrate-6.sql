-- Version 6: the failed events per type, HTTP status and error, with the time of their last attempt:
-- Storage::failureGroups counts them from this index alone, without reading a row. Only failed rows are in
-- it, so delivering and enqueueing never write it.
CREATE INDEX IF NOT EXISTS outbox_events_failures ON outbox_events(type, last_http_status, last_error, next_attempt_at) WHERE status = 'failed'
