-- Step 3: lease them. Bound: owner, lease (ms) twice, the sequences.
UPDATE outbox_events SET lease_owner = ?, lease_expires_at = {{now-plus-ms}}, next_attempt_at = {{now-plus-ms}} WHERE {{seq-in-list}}
