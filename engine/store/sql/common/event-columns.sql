-- The columns of an event row, in the order eventFromQuery reads them (FROM outbox_events, unaliased). The times
-- as milliseconds since the epoch (ms-*.sql: SQLite stores them so; PostgreSQL and MySQL convert them): read
-- as timestamps, Qt's drivers parse text and convert to and from local time for every value, which was a fifth
-- (PostgreSQL) to a third (MariaDB, parsing) of a relayer's CPU. Left without names, so that an ORDER BY of a
-- time column still means the column.
seq, id, type, source, subject, content_type, {{event-data}}, extensions, ordering_key, status, attempts, {{ms-next-attempt-at}}, lease_owner, {{ms-lease-expires-at}}, last_error, last_http_status, {{ms-created-at}}, {{ms-sent-at}}, replay_of
