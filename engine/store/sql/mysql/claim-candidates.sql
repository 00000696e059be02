-- The claim, step 1 (a plain read): the due heads of their keys, in due order. Bound: limit.
SELECT e.seq FROM outbox_events e WHERE e.status = 'pending' AND e.next_attempt_at <= NOW(3) {{head-of-key}}{{types}} ORDER BY e.next_attempt_at, e.seq LIMIT ?
