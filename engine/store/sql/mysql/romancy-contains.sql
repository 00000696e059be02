-- Case-sensitive, as on the other databases, whatever the column's collation.
LOCATE(CAST(? AS BINARY), CAST({{column}} AS BINARY)) > 0
