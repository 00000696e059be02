-- Every event of the batch delivered at one time with the same answer (one request): one single-table UPDATE
-- by primary key with the values inlined once, instead of complete-update.sql's join to a JSON table (which
-- MariaDB runs by gathering the rows in a temporary table first): 16.6 µs per event against 25.9 on the
-- server. Sent as text. Bound (inlined): attempted at (ms) twice, http status (or NULL), duration, owner,
-- owner; {{seq-in-list}}: the batch.
UPDATE outbox_events SET status = 'sent', attempts = attempts + 1, next_attempt_at = TIMESTAMPADD(MICROSECOND, ? * 1000, '1970-01-01'), lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = ?, sent_at = TIMESTAMPADD(MICROSECOND, ? * 1000, '1970-01-01'), last_duration_ms = ?, last_relayer = ? WHERE {{seq-in-list}} AND lease_owner = ?
