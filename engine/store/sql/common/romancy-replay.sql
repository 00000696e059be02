-- A copy under a new id, pending, created now (the column's default); the original stays as it is.
INSERT INTO outbox_events (event_id, event_type, event_source{{copied}}, status, retry_count)
SELECT ?, event_type, event_source{{copied}}, 'pending', 0 FROM outbox_events
WHERE event_id = ? AND status NOT IN ('pending', 'processing')
