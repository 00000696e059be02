-- {{columns}}, {{where}} and {{direction}} are filled in per call.
SELECT {{columns}} FROM outbox_events{{where}} ORDER BY seq {{direction}} LIMIT ?
