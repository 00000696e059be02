DELETE FROM outbox_relayers WHERE owner = ?
