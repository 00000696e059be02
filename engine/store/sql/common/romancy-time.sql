-- A time bound as text 'YYYY-MM-DD HH:MM:SS' (UTC), compared with the table's time columns.
?
