-- After a write-back of delivered events that wrote fewer rows than it had results (leases taken over by another
-- relayer): the rows of the batch it wrote, known by what it wrote into them.
SELECT seq FROM outbox_events FORCE INDEX (PRIMARY) WHERE {{seq-in-list}} AND status = 'sent' AND lease_owner IS NULL AND last_relayer = ?
