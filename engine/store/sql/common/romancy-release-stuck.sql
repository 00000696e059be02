-- Rows a relayer marked 'processing' and never finished (edda marks a claimed row so, then crashes): pending again.
UPDATE outbox_events SET status = 'pending' WHERE status = 'processing' AND created_at < {{time}}
