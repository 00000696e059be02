-- The indexes of schema version 1.
-- The relayer's claim: due pending rows in due order. A leased row's next_attempt_at is its lease expiry, so
-- in-flight rows are simply not due and an expired lease makes the row due again.
CREATE INDEX IF NOT EXISTS outbox_events_due ON outbox_events(next_attempt_at, seq) WHERE status = 'pending';

-- Per-key ordering: the unsent events of a key, in order.
CREATE INDEX IF NOT EXISTS outbox_events_key ON outbox_events(ordering_key, seq) WHERE ordering_key IS NOT NULL AND status <> 'sent';

-- The console's status tabs and filters, paged by sequence.
CREATE INDEX IF NOT EXISTS outbox_events_status ON outbox_events(status, seq);

CREATE INDEX IF NOT EXISTS outbox_events_type ON outbox_events(type, seq);

CREATE INDEX IF NOT EXISTS outbox_events_created ON outbox_events(created_at);

CREATE INDEX IF NOT EXISTS outbox_attempts_event ON outbox_attempts(event_seq);
