-- A new pending event with the original's attributes and data, its extensions naming the original. Straight into
-- outbox_events also on SQLite (the caller counts the rows it added), a large payload in the row: a replay is rare.
INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, ordering_key, status, attempts, next_attempt_at, created_at, replay_of) SELECT ?, type, source, subject, content_type, {{event-data}}, {{replay-extensions}}, ordering_key, 'pending', 0, ?, ?, id FROM outbox_events WHERE id = ? AND status IN ('sent', 'failed')
