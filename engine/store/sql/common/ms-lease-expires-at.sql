-- lease_expires_at in milliseconds since the epoch (see event-columns.sql); SQLite stores it so.
lease_expires_at
