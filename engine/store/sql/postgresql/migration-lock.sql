-- Serialises concurrent migrations; held to the end of the transaction.
SELECT pg_advisory_xact_lock(726172)
