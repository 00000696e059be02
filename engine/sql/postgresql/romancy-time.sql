CAST(? AS timestamp)
