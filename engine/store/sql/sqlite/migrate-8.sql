-- Version 8: the operators' actions by time (their entries in the events' history), so the console lists what
-- every operator did on this outbox without reading every attempt. Only failed attempts and operator entries
-- are rows of outbox_attempts, so the index costs a relayer nothing on delivered events.
CREATE INDEX IF NOT EXISTS outbox_attempts_operator ON outbox_attempts(outcome, attempted_at)
