-- Schema version 1. PostgreSQL keeps times as TIMESTAMPTZ, to the millisecond, in UTC.
CREATE TABLE IF NOT EXISTS outbox_events ( seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, source TEXT NOT NULL, subject TEXT, content_type TEXT, data BYTEA NOT NULL DEFAULT ''::bytea, extensions JSONB, ordering_key TEXT, status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','failed','sent')), attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at TIMESTAMPTZ NOT NULL, lease_owner TEXT, lease_expires_at TIMESTAMPTZ, last_error TEXT, last_http_status INTEGER, created_at TIMESTAMPTZ NOT NULL, sent_at TIMESTAMPTZ, replay_of TEXT);

CREATE TABLE IF NOT EXISTS outbox_attempts ( id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, event_seq BIGINT NOT NULL, attempted_at TIMESTAMPTZ NOT NULL, outcome TEXT NOT NULL, http_status INTEGER, error TEXT, duration_ms BIGINT NOT NULL DEFAULT 0, relayer TEXT);

{{indexes-1}}
