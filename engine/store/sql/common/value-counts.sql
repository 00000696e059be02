-- The distinct values of one column ({{column}}: the type or the source) with how many events have each, the
-- commonest first, for the console's completion.
SELECT {{column}}, COUNT(*) FROM outbox_events GROUP BY {{column}} ORDER BY 2 DESC, 1 LIMIT ?
