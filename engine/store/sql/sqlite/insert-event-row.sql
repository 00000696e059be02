-- A payload of 1 KiB or less stays in the row (migrate-9.sql's rule, which Dialect::insertStatement applies):
-- the row goes straight into the table. Through the view, its trigger costs a second statement program and a
-- statement journal per event: about a third of the enqueue's time in batches of 100.
INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, ordering_key, status, attempts, next_attempt_at, created_at, replay_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?)
