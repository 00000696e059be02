-- Failed events leased for one delivery elsewhere (Storage::takeFailed). Bound: owner, lease expiry, now.
UPDATE outbox_events SET lease_owner = ?, lease_expires_at = ? WHERE status = 'failed' AND (lease_owner IS NULL OR lease_expires_at < ?) AND {{seq-in-list}}
