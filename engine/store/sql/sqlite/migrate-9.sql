-- Version 9: a large payload is written once, at enqueue, into outbox_payloads, and never again. SQLite rewrites
-- a whole row (its overflow pages included) whenever a column of it changes size, and the claim, every lease
-- renewal and the write-back change the status and lease columns: with the payload in the row, a 20 KiB event
-- was written four times. New events go in through the view outbox_enqueue, whose trigger writes the row and,
-- for a payload over 1 KiB, leaves its data column empty and writes the payload beside it, in one statement
-- (so also atomically without a transaction). A payload of 1 KiB or less stays in the row: rewriting it costs
-- about what looking up a row beside it would on every claim. Rows written before, or straight into
-- outbox_events by other programs, keep their data in the row: readers take the row's data when it has some,
-- else the payload row.
CREATE TABLE IF NOT EXISTS outbox_payloads (seq INTEGER PRIMARY KEY, data BLOB NOT NULL);

CREATE TRIGGER IF NOT EXISTS outbox_payloads_delete AFTER DELETE ON outbox_events BEGIN DELETE FROM outbox_payloads WHERE seq = OLD.seq; END;

CREATE VIEW IF NOT EXISTS outbox_enqueue AS SELECT id, type, source, subject, content_type, data, extensions, ordering_key, next_attempt_at, created_at, replay_of FROM outbox_events;

CREATE TRIGGER IF NOT EXISTS outbox_enqueue_insert INSTEAD OF INSERT ON outbox_enqueue BEGIN INSERT INTO outbox_events (id, type, source, subject, content_type, data, extensions, ordering_key, status, attempts, next_attempt_at, created_at, replay_of) VALUES (NEW.id, NEW.type, NEW.source, NEW.subject, NEW.content_type, CASE WHEN length(NEW.data) > 1024 THEN x'' ELSE NEW.data END, NEW.extensions, NEW.ordering_key, 'pending', 0, NEW.next_attempt_at, NEW.created_at, NEW.replay_of); INSERT INTO outbox_payloads (seq, data) SELECT last_insert_rowid(), NEW.data WHERE length(NEW.data) > 1024; END
