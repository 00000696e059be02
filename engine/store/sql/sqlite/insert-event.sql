-- Through the view of schema version 9: the row, and the payload beside it (see migrate-9.sql).
INSERT INTO outbox_enqueue (id, type, source, subject, content_type, data, extensions, ordering_key, next_attempt_at, created_at, replay_of) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
