-- Schema version 1 on MySQL and MariaDB (InnoDB). Times are DATETIME(3) in UTC (the session's time zone is
-- UTC); text compares byte for byte (utf8mb4_bin), as on the other databases. Indexed text is VARCHAR.
CREATE TABLE IF NOT EXISTS outbox_events ( seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, id VARCHAR(255) NOT NULL UNIQUE, type VARCHAR(512) NOT NULL, source TEXT NOT NULL, subject TEXT, content_type TEXT, data LONGBLOB NOT NULL DEFAULT (''), extensions LONGTEXT, ordering_key VARCHAR(512), status VARCHAR(16) NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','failed','sent')), attempts INT NOT NULL DEFAULT 0, next_attempt_at DATETIME(3) NOT NULL, lease_owner VARCHAR(255), lease_expires_at DATETIME(3), last_error LONGTEXT, last_http_status INT, created_at DATETIME(3) NOT NULL, sent_at DATETIME(3), replay_of VARCHAR(255)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS outbox_attempts ( id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, event_seq BIGINT NOT NULL, attempted_at DATETIME(3) NOT NULL, outcome VARCHAR(16) NOT NULL, http_status INT, error LONGTEXT, duration_ms BIGINT NOT NULL DEFAULT 0, relayer VARCHAR(255)) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- No partial indexes here: the claim's index leads with the status instead, and the per-key index has the
-- status before the sequence, so the claim's head check skips a key's sent events (without it the check
-- walked every sent event of the key, for every candidate).
CREATE INDEX IF NOT EXISTS outbox_events_due ON outbox_events(status, next_attempt_at, seq);

CREATE INDEX IF NOT EXISTS outbox_events_key ON outbox_events(ordering_key, status, seq);

CREATE INDEX IF NOT EXISTS outbox_events_status ON outbox_events(status, seq);

CREATE INDEX IF NOT EXISTS outbox_events_type ON outbox_events(type, seq);

CREATE INDEX IF NOT EXISTS outbox_events_created ON outbox_events(created_at);

CREATE INDEX IF NOT EXISTS outbox_attempts_event ON outbox_attempts(event_seq)
