-- Version 10: the relayer's queue. Every pending event has one narrow row here, which holds its lease and when
-- it is next due; the claim, the lease renewals and a retry rewrite that row instead of the event's (which
-- carries its payload and eight indexes): the claim and write-back statements 1.14x (1 client) and 1.37x (4), a
-- whole drain 0.97x (1 relayer) and 1.08x (4; README, Performance). The event row keeps its status, attempts
-- and results, so everything that reads them reads as before. The row's ordering key and type are copied, so
-- the claim picks its batch from this table alone. Triggers keep the queue whole whoever writes outbox_events:
-- a pending row inserted (by our enqueue, a replay, or another program's INSERT) gets its queue row; an event
-- made pending again (a retry) gets one; a pending event deleted, or made sent or failed by another program,
-- loses it. The write-back removes the rows of the events it completes itself, in its own statement: a trigger
-- on every change of status cost 10 % of the rate. So outbox_queue_left leaves out the changes that write a new
-- last_relayer, which the write-back of an event's first attempt always does; the rare write-back that fires it
-- (the same relayer's second attempt) deletes nothing. A pending event's next_attempt_at written by hand (to
-- make it due now) is copied to its queue row unless a live lease holds it; the write-back of a retry counts an
-- attempt, so that change is left out (it writes the queue row itself).
CREATE TABLE IF NOT EXISTS outbox_queue ( seq BIGINT PRIMARY KEY, next_attempt_at TIMESTAMPTZ NOT NULL, lease_owner TEXT, lease_expires_at TIMESTAMPTZ, ordering_key TEXT, type TEXT NOT NULL);

CREATE INDEX IF NOT EXISTS outbox_queue_due ON outbox_queue(next_attempt_at, seq);

-- The events' due index is the queue's now: nothing reads it, and every enqueue and retry wrote it.
DROP INDEX IF EXISTS outbox_events_due;

INSERT INTO outbox_queue (seq, next_attempt_at, lease_owner, lease_expires_at, ordering_key, type) SELECT seq, next_attempt_at, lease_owner, lease_expires_at, ordering_key, type FROM outbox_events WHERE status = 'pending' ON CONFLICT (seq) DO NOTHING;

UPDATE outbox_events SET lease_owner = NULL, lease_expires_at = NULL WHERE status = 'pending' AND lease_owner IS NOT NULL;

CREATE OR REPLACE FUNCTION outbox_queue_added() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO outbox_queue (seq, next_attempt_at, lease_owner, lease_expires_at, ordering_key, type) SELECT seq, next_attempt_at, lease_owner, lease_expires_at, ordering_key, type FROM outbox_added WHERE status = 'pending'; RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION outbox_queue_pending() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO outbox_queue (seq, next_attempt_at, ordering_key, type) VALUES (NEW.seq, NEW.next_attempt_at, NEW.ordering_key, NEW.type) ON CONFLICT (seq) DO UPDATE SET next_attempt_at = EXCLUDED.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL; RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION outbox_queue_rescheduled() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE outbox_queue SET next_attempt_at = NEW.next_attempt_at, lease_owner = NULL, lease_expires_at = NULL WHERE seq = NEW.seq AND (lease_owner IS NULL OR lease_expires_at < clock_timestamp()); RETURN NULL; END $$;

CREATE OR REPLACE FUNCTION outbox_queue_removed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN DELETE FROM outbox_queue WHERE seq = OLD.seq; RETURN NULL; END $$;

CREATE OR REPLACE TRIGGER outbox_queue_added AFTER INSERT ON outbox_events REFERENCING NEW TABLE AS outbox_added FOR EACH STATEMENT EXECUTE FUNCTION outbox_queue_added();

CREATE OR REPLACE TRIGGER outbox_queue_pending AFTER UPDATE OF status ON outbox_events FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending') EXECUTE FUNCTION outbox_queue_pending();

CREATE OR REPLACE TRIGGER outbox_queue_left AFTER UPDATE OF status ON outbox_events FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status <> 'pending' AND NEW.last_relayer IS NOT DISTINCT FROM OLD.last_relayer) EXECUTE FUNCTION outbox_queue_removed();

CREATE OR REPLACE TRIGGER outbox_queue_rescheduled AFTER UPDATE OF next_attempt_at ON outbox_events FOR EACH ROW WHEN (OLD.status = 'pending' AND NEW.status = 'pending' AND NEW.next_attempt_at IS DISTINCT FROM OLD.next_attempt_at AND NEW.attempts = OLD.attempts) EXECUTE FUNCTION outbox_queue_rescheduled();

CREATE OR REPLACE TRIGGER outbox_queue_removed AFTER DELETE ON outbox_events FOR EACH ROW WHEN (OLD.status = 'pending') EXECUTE FUNCTION outbox_queue_removed()
