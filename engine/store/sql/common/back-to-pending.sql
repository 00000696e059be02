UPDATE outbox_events SET status = 'pending', attempts = 0, next_attempt_at = ?, lease_owner = NULL, lease_expires_at = NULL, last_error = NULL, last_http_status = NULL
