-- created_at in milliseconds since the epoch (see event-columns.sql); SQLite stores it so.
created_at
