-- Byte-wise: a payload need not be valid text.
instr(CAST(data AS BLOB), ?) > 0
