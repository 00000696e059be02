-- Alive while some session holds the relayer's named lock (see try-relayer-lock).
SELECT owner, host, pid, process_start, lock_key, lease_ms, started_at, IS_USED_LOCK(CONCAT('outbox_relayer:', DATABASE(), ':', lock_key)) IS NOT NULL, target_state FROM outbox_relayers ORDER BY started_at, owner
