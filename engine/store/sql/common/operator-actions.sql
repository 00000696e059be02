-- The newest operator actions on this outbox, from the events' history: an action writes one entry per event
-- it changed, all with the same time, text and actor, so each group is one action. Only the entries of the
-- newest `limit` times are read (the index of version 8, newest first). Bound: the limit.
SELECT attempted_at, error, relayer, COUNT(*) FROM outbox_attempts WHERE outcome = 'operator' AND attempted_at >= (SELECT MIN(t) FROM (SELECT DISTINCT attempted_at AS t FROM outbox_attempts WHERE outcome = 'operator' ORDER BY attempted_at DESC LIMIT ?) AS recent) GROUP BY attempted_at, error, relayer ORDER BY attempted_at DESC
