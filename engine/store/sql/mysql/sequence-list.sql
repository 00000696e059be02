-- Inlined as integer literals ({{sequences}}, filled per call): MariaDB uses no index for IN (subquery) in a
-- single-table UPDATE, and scanned the whole table on every claim.
({{sequences}})
