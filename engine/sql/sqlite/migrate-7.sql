-- Version 7: what a relayer found of its target (its circuit breaker): NULL while the target answers, else
-- a JSON object {"target", "since", "next_probe", "why"} (times in ms since the epoch). Read by stats,
-- relayers and the console, so an outage shows where an operator looks.
ALTER TABLE outbox_relayers ADD COLUMN target_state TEXT
