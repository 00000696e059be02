-- The narrow tables of the queue design on MariaDB/MySQL, filled from the outbox's pending events.
CREATE TABLE outbox_queue (seq BIGINT NOT NULL PRIMARY KEY, next_attempt_at DATETIME(3) NOT NULL, lease_owner VARCHAR(255), lease_expires_at DATETIME(3), KEY outbox_queue_due (next_attempt_at, seq)) ENGINE=InnoDB;
CREATE TABLE outbox_sent (seq BIGINT NOT NULL PRIMARY KEY, sent_at DATETIME(3) NOT NULL, http_status INT, duration_ms BIGINT, relayer VARCHAR(255)) ENGINE=InnoDB;
INSERT INTO outbox_queue (seq, next_attempt_at) SELECT seq, next_attempt_at FROM outbox_events WHERE status = 'pending';
