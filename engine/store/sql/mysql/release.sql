-- Gives the leases of these events back. By the primary key only (as claim-lock.sql and complete-held.sql):
-- through the status index the release locked index entries before the rows, the opposite order of a
-- write-back beside it, and MariaDB chose one of the two as a deadlock victim (seen when 4 relayers stopped).
UPDATE outbox_events FORCE INDEX (PRIMARY) SET lease_owner = NULL, lease_expires_at = NULL, next_attempt_at = ? WHERE lease_owner = ? AND status = 'pending' AND {{seq-in-list}}
