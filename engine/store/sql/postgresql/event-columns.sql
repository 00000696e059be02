-- The columns of an event row, in the order eventFromQuery reads them (FROM outbox_events, unaliased); the times
-- as milliseconds since the epoch (rounded as Qt rounds a timestamp's microseconds): read as timestamps, Qt's
-- driver converts each to local time and back, which made glibc look at the time zone file on every value, a
-- fifth of a relayer's CPU. Left without names, so that an ORDER BY of a time column still means the column.
seq, id, type, source, subject, content_type, {{event-data}}, extensions, ordering_key, status, attempts, {{ms-next-attempt-at}}, lease_owner, {{ms-lease-expires-at}}, last_error, last_http_status, {{ms-created-at}}, {{ms-sent-at}}, replay_of
