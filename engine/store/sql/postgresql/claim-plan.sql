-- Run (not prepared) just before a claim, and claim-plan-end.sql just after: the claim must walk the due index
-- in order and stop after its batch, whatever the table's statistics say. Without statistics that count the
-- rows now waiting (a table filled since it was last analysed: a bulk enqueue, a burst after a quiet spell) the
-- planner counts on a handful of due rows and reads and sorts all of them instead: 31-37 ms per claim with
-- 20,000 waiting, where the index walk takes under 1 ms. Only around the claim: for the session's other
-- statements (the relayers' list over pg_locks, renewing leases) plans without a sort are far worse.
SET enable_sort = off
