-- A time column read as text (SQLite: the frameworks store 'YYYY-MM-DD HH:MM:SS' text already).
{{column}}
