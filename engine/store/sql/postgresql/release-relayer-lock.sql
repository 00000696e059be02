SELECT pg_advisory_unlock(2828, CAST(? AS integer))
