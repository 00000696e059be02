-- One pass over the (status, created_at) index the frameworks create.
SELECT status, COUNT(*), {{oldest}} FROM outbox_events GROUP BY status
