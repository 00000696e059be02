-- The newest failed attempt, retried or final (Storage::latestFailure): the history's rows are appended as
-- attempts end, so the highest id is the newest; delivering attempts live on the event's row, not here.
SELECT a.event_seq, a.attempted_at, a.error, a.http_status FROM outbox_attempts a WHERE a.outcome IN ('retry', 'failed') ORDER BY a.id DESC LIMIT 1
