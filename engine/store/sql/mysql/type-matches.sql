-- {{patterns}}: a JSON array of LIKE patterns (backslash escapes), as an SQL string literal.
EXISTS (SELECT 1 FROM JSON_TABLE({{patterns}}, '$[*]' COLUMNS (v VARCHAR(512) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PATH '$')) AS p WHERE e.type LIKE p.v)
