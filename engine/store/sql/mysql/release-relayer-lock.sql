SELECT RELEASE_LOCK(CONCAT('outbox_relayer:', DATABASE(), ':', ?))
