-- sent_at in milliseconds since the epoch (see event-columns.sql); SQLite stores it so.
sent_at
