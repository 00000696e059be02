SELECT MIN(next_attempt_at) FROM outbox_queue
