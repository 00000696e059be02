-- Version 2: an event that waits behind an earlier unsent event of its ordering key is "parked" (due at
-- 9999-12-31, 253402214400000 ms) instead of due, so claims never walk past a backlog of blocked events; when
-- its key's head is sent or deleted, the next event of the key is made due. Triggers do it, so every writer
-- (the engine, the console, outboxctl, an application's own SQL) keeps the rule. The claim still checks the
-- head itself, so rows written before version 2 stay correct.
UPDATE outbox_events SET next_attempt_at = 253402214400000 WHERE status = 'pending' AND lease_owner IS NULL AND ordering_key IS NOT NULL AND EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key IS NOT NULL AND p.ordering_key = outbox_events.ordering_key AND p.status <> 'sent' AND p.seq < outbox_events.seq);

CREATE TRIGGER IF NOT EXISTS outbox_events_park AFTER INSERT ON outbox_events WHEN NEW.ordering_key IS NOT NULL AND NEW.status = 'pending' BEGIN UPDATE outbox_events SET next_attempt_at = 253402214400000 WHERE seq = NEW.seq AND EXISTS (SELECT 1 FROM outbox_events p WHERE p.ordering_key IS NOT NULL AND p.ordering_key = NEW.ordering_key AND p.status <> 'sent' AND p.seq < NEW.seq); END;

CREATE TRIGGER IF NOT EXISTS outbox_events_unpark_sent AFTER UPDATE OF status ON outbox_events WHEN NEW.ordering_key IS NOT NULL AND NEW.status = 'sent' AND OLD.status <> 'sent' BEGIN UPDATE outbox_events SET next_attempt_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE seq = (SELECT MIN(seq) FROM outbox_events WHERE ordering_key IS NOT NULL AND ordering_key = NEW.ordering_key AND status <> 'sent') AND status = 'pending' AND next_attempt_at = 253402214400000; END;

CREATE TRIGGER IF NOT EXISTS outbox_events_unpark_deleted AFTER DELETE ON outbox_events WHEN OLD.ordering_key IS NOT NULL AND OLD.status <> 'sent' BEGIN UPDATE outbox_events SET next_attempt_at = CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) WHERE seq = (SELECT MIN(seq) FROM outbox_events WHERE ordering_key IS NOT NULL AND ordering_key = OLD.ordering_key AND status <> 'sent') AND status = 'pending' AND next_attempt_at = 253402214400000; END
