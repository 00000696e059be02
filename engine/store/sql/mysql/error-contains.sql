LOCATE(?, last_error) > 0
