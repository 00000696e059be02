-- Every event of the batch delivered at one time with the same answer (the usual batch: one request): the
-- values bound once, the sequences as a JSON array. No FROM and no RETURNING: SQLite runs an UPDATE … FROM
-- through a temporary table of the join, and collects RETURNING rows in another; the two cost 1.2x of the
-- claim and write-back statements' rate. The rows written are counted instead (sqlite3_changes); only when
-- fewer than the batch (leases taken over) does complete-delivered-written.sql ask which.
-- Bound: attempted at, http status, duration, owner, the sequences.
UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, next_attempt_at = ?1, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = ?2, sent_at = ?1, last_duration_ms = ?3, last_relayer = ?4 WHERE seq IN (SELECT value FROM json_each(?5)) AND lease_owner = ?4
