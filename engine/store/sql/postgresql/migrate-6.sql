-- Version 6: the failed events per type, HTTP status and error (its first 200 characters: an index entry has
-- a size limit), with the time of their last attempt, for Storage::failureGroups. Only failed rows are in it,
-- so delivering and enqueueing never write it.
CREATE INDEX IF NOT EXISTS outbox_events_failures ON outbox_events(type, last_http_status, (substr(last_error, 1, 200)), next_attempt_at) WHERE status = 'failed'
