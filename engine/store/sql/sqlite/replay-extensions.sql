json_set(COALESCE(extensions, '{}'), '$.replayof', id)
