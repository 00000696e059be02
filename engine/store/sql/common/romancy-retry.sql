-- Back to pending with the retry count reset and the error cleared: both frameworks' relayers pick such a row up.
UPDATE outbox_events SET status = 'pending', retry_count = 0{{clear-error}}
WHERE status IN ('failed', 'invalid', 'expired'){{and}}
