strpos(last_error, ?) > 0
