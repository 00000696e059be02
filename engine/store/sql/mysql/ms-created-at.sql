-- created_at in milliseconds since the epoch (see event-columns.sql): DATETIME(3) holds UTC, so no time zone enters.
TIMESTAMPDIFF(MICROSECOND, '1970-01-01', created_at) DIV 1000
