-- next_attempt_at in milliseconds since the epoch (see event-columns.sql); SQLite stores it so.
next_attempt_at
