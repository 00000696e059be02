-- Schema version 1. SQLite keeps times as Unix milliseconds (UTC).
CREATE TABLE IF NOT EXISTS outbox_events ( seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, type TEXT NOT NULL, source TEXT NOT NULL, subject TEXT, content_type TEXT, data BLOB NOT NULL DEFAULT x'', extensions TEXT, ordering_key TEXT, status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','failed','sent')), attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, lease_owner TEXT, lease_expires_at INTEGER, last_error TEXT, last_http_status INTEGER, created_at INTEGER NOT NULL, sent_at INTEGER, replay_of TEXT);

CREATE TABLE IF NOT EXISTS outbox_attempts ( id INTEGER PRIMARY KEY, event_seq INTEGER NOT NULL, attempted_at INTEGER NOT NULL, outcome TEXT NOT NULL, http_status INTEGER, error TEXT, duration_ms INTEGER NOT NULL DEFAULT 0, relayer TEXT);

{{indexes-1}}
