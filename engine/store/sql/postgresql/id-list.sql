(SELECT jsonb_array_elements_text(CAST(? AS jsonb)))
