to_char({{column}}, 'YYYY-MM-DD HH24:MI:SS.MS')
