JSON_SET(COALESCE(extensions, '{}'), '$.replayof', id)
