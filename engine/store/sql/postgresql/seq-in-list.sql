-- The condition "seq is one of the bound list", as = ANY of an array: the planner then counts on a few rows and
-- looks them up by the primary key. As IN (subquery) it took the table's statistics instead, which right after
-- a bulk enqueue say "a few rows match" of the other conditions, and scanned every pending row for each batch.
seq = ANY(ARRAY(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS BIGINT)))
