position(CAST(? AS bytea) IN data) > 0
