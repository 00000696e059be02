-- The failed rows of a romancy/edda table per type and error text, with the first and last creation time
-- ({{first}}, {{last}}: the time columns as text; the format records no time of failure).
SELECT event_type, {{error}}, COUNT(*), {{first}}, {{last}} FROM outbox_events{{where}} GROUP BY event_type, {{error}}
