-- One statement: pick due rows (the head of each ordering key only) and lease them. Bound: owner, lease
-- expiry, next attempt (the same), now, limit. {{types}}: a route's type condition, or nothing. The columns:
-- claim-columns.sql.
UPDATE outbox_events SET lease_owner = ?, lease_expires_at = ?, next_attempt_at = ? WHERE seq IN (SELECT e.seq FROM outbox_events e INDEXED BY outbox_events_due WHERE e.status = 'pending' AND e.next_attempt_at <= ? {{head-of-key}}{{types}} ORDER BY e.next_attempt_at, e.seq LIMIT ?) RETURNING {{claim-columns}}
