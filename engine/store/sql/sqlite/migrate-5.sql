-- Version 5: the relayers that run, so a dead one's leases are released at once (see registerRelayer).
CREATE TABLE IF NOT EXISTS outbox_relayers ( owner TEXT PRIMARY KEY, host TEXT NOT NULL, pid INTEGER NOT NULL, process_start TEXT, lock_key INTEGER, lease_ms INTEGER NOT NULL, started_at INTEGER NOT NULL)
