SELECT CAST(EXTRACT(EPOCH FROM clock_timestamp() - pg_postmaster_start_time()) * 1000 AS bigint)
