-- The last column: whether the relayer's session lock is held (NULL where the database has no such locks).
SELECT owner, host, pid, process_start, lock_key, lease_ms, started_at, NULL, target_state FROM outbox_relayers ORDER BY started_at, owner
