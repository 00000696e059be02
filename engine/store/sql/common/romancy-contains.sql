-- instr() rather than LIKE: no wildcard characters to escape in what the user typed.
instr({{column}}, ?) > 0
