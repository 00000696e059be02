COALESCE(extensions, '{}'::jsonb) || jsonb_build_object('replayof', id)
