-- An event's payload, in a statement on outbox_events (unaliased): its data column. SQLite's differs (schema
-- version 9 keeps a large payload beside the row).
data
