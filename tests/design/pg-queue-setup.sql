-- The narrow tables of the queue design, filled from the outbox's pending events.
CREATE TABLE outbox_queue (seq BIGINT PRIMARY KEY, next_attempt_at TIMESTAMPTZ NOT NULL, lease_owner TEXT, lease_expires_at TIMESTAMPTZ);
CREATE INDEX outbox_queue_due ON outbox_queue(next_attempt_at, seq);
CREATE TABLE outbox_sent (seq BIGINT PRIMARY KEY, sent_at TIMESTAMPTZ NOT NULL, http_status INTEGER, duration_ms BIGINT, relayer TEXT);
INSERT INTO outbox_queue (seq, next_attempt_at) SELECT seq, next_attempt_at FROM outbox_events WHERE status = 'pending';
