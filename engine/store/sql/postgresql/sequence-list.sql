(SELECT CAST(jsonb_array_elements_text(CAST(? AS jsonb)) AS BIGINT))
