-- Version 4: the status check as three comparisons. SQLite evaluates `status IN (three values)` in a CHECK by
-- building a temporary b-tree for every row written, which cost as much as the rest of an enqueue. The
-- constraint means the same, so the table's definition is edited in place, by the procedure SQLite documents
-- for changing a CHECK constraint (ALTER TABLE cannot); no row is rewritten. "bump schema_version" is not
-- SQL: the migration raises SQLite's schema cookie by one, so every connection reloads the edited definition.
PRAGMA writable_schema = ON;

UPDATE sqlite_schema SET sql = replace(sql, "CHECK (status IN ('pending','failed','sent'))", "CHECK (status = 'pending' OR status = 'failed' OR status = 'sent')") WHERE type = 'table' AND name = 'outbox_events';

bump schema_version;

PRAGMA writable_schema = OFF
