-- {{patterns}}: a JSON array of glob patterns, as an SQL string literal.
EXISTS (SELECT 1 FROM json_each({{patterns}}) WHERE e.type GLOB json_each.value)
