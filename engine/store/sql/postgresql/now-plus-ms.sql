(clock_timestamp() + CAST(? AS bigint) * interval '1 millisecond')
