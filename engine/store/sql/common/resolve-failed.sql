-- A failed event replaced by a fix (Storage::resolveFailed). Bound: the new last error, the id.
UPDATE outbox_events SET last_error = ?, last_http_status = NULL WHERE id = ? AND status = 'failed'
