-- A failed statement would abort the caller's transaction, so look before touching.
SELECT to_regclass('outbox_schema') IS NOT NULL
