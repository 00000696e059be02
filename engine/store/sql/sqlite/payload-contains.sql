-- Byte-wise: a payload need not be valid text. The payload where schema version 9 keeps it.
instr(CAST({{event-data}} AS BLOB), ?) > 0
