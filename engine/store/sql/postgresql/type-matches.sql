-- {{patterns}}: a JSON array of LIKE patterns (backslash escapes), as an SQL string literal.
EXISTS (SELECT 1 FROM json_array_elements_text(CAST({{patterns}} AS json)) AS p(v) WHERE e.type LIKE p.v)
