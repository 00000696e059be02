-- Byte-wise: data is a LONGBLOB and the value is bound as bytes.
LOCATE(?, data) > 0
