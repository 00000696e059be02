-- SQLite keeps an integer rowid beside the text primary key: it rises with insertion and is indexed, so it
-- serves as the row's sequence. The other databases have none: the storage numbers the ids it has seen.
rowid
