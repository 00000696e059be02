DATE_FORMAT({{column}}, '%Y-%m-%d %H:%i:%s.%f')
