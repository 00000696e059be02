-- An operator's action on events, as an entry of their history: [time, what was done, who], then the
-- condition on outbox_events that names the rows it changes (run before the change, in its transaction).
INSERT INTO outbox_attempts (event_seq, attempted_at, outcome, error, duration_ms, relayer) SELECT seq, ?, 'operator', ?, 0, ? FROM outbox_events{{where}}
