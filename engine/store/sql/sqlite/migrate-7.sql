-- Version 7: a relayer's target and what it found of it (its circuit breaker): a JSON object {"target"},
-- with "since", "next_probe" (ms since the epoch) and "why" while the target is unavailable. Read by stats,
-- relayers and the console, so an outage shows where an operator looks.
ALTER TABLE outbox_relayers ADD COLUMN target_state TEXT
