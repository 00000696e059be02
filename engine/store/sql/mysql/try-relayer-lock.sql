SELECT GET_LOCK(CONCAT('outbox_relayer:', DATABASE(), ':', ?), 0)
