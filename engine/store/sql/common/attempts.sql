-- The recorded attempts, then (schema version 3 on) the delivering attempt, which is kept on the event's row;
-- an event delivered before version 3 has it recorded instead. Ordered by time, then by the attempt's row id, the event
-- row's attempt (no id) last.
SELECT a.attempted_at, a.outcome, a.http_status, a.error, a.duration_ms, a.relayer, a.id FROM outbox_attempts a JOIN outbox_events e ON e.seq = a.event_seq WHERE e.id = ? UNION ALL SELECT e.sent_at, 'sent', e.last_http_status, NULL, COALESCE(e.last_duration_ms, 0), e.last_relayer, NULL FROM outbox_events e WHERE e.id = ? AND e.status = 'sent' AND e.last_relayer IS NOT NULL AND NOT EXISTS (SELECT 1 FROM outbox_attempts a WHERE a.event_seq = e.seq AND a.outcome = 'sent') ORDER BY 1, 7 NULLS LAST
