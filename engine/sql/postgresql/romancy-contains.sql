strpos({{column}}, ?) > 0
