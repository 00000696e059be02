-- A named lock (server-wide, hence the database's name in it), held by the session until released.
SELECT GET_LOCK(CONCAT('outbox_schema:', DATABASE()), 60)
