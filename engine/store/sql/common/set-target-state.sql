UPDATE outbox_relayers SET target_state = ? WHERE owner = ?
