-- Version 7: what a relayer found of its target (see sqlite/migrate-7.sql).
ALTER TABLE outbox_relayers ADD COLUMN IF NOT EXISTS target_state TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
