SELECT pg_try_advisory_lock(2828, CAST(? AS integer))
