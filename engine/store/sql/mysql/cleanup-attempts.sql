-- MySQL deletes from a table it reads in a subquery only through a join on a derived table.
DELETE a FROM outbox_attempts a JOIN (SELECT seq FROM outbox_events WHERE status IN ({{statuses}}) AND created_at < ? ORDER BY seq LIMIT ?) AS v ON a.event_seq = v.seq
