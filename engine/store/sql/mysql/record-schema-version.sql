INSERT INTO outbox_schema(version) SELECT ? FROM DUAL WHERE NOT EXISTS (SELECT 1 FROM outbox_schema WHERE version = ?)
