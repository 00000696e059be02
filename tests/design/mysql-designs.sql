-- The claim and write-back of batches of 100 on MariaDB/MySQL, today's table against the queue designs, run on
-- the server in procedures (no client round trips): see measure.sh. Each procedure relays until nothing is due.
DROP PROCEDURE IF EXISTS relay_today;
DROP PROCEDURE IF EXISTS relay_queue;
DROP PROCEDURE IF EXISTS relay_queue_lease;
DELIMITER ;;
CREATE PROCEDURE relay_today()
BEGIN
  DECLARE j LONGTEXT;
  DECLARE n INT DEFAULT 1;
  WHILE n > 0 DO
    START TRANSACTION;
    SELECT JSON_ARRAYAGG(seq), COUNT(*) INTO j, n FROM (SELECT seq FROM outbox_events WHERE status = 'pending' AND next_attempt_at <= NOW(3) ORDER BY next_attempt_at, seq LIMIT 100) c;
    IF n > 0 THEN
      UPDATE JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s SET o.lease_owner = 'r1', o.lease_expires_at = NOW(3) + INTERVAL 1 HOUR, o.next_attempt_at = NOW(3) + INTERVAL 1 HOUR;
      SELECT SUM(LENGTH(o.data) + LENGTH(o.id) + LENGTH(o.type)) INTO @bytes FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s;
    END IF;
    COMMIT;
    IF n > 0 THEN
      UPDATE JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s SET o.status = 'sent', o.attempts = o.attempts + 1, o.lease_owner = NULL, o.lease_expires_at = NULL, o.last_http_status = 202, o.sent_at = NOW(3), o.next_attempt_at = NOW(3) WHERE o.lease_owner = 'r1';
    END IF;
  END WHILE;
END;;
CREATE PROCEDURE relay_queue()
BEGIN
  DECLARE j LONGTEXT;
  DECLARE n INT DEFAULT 1;
  WHILE n > 0 DO
    START TRANSACTION;
    SELECT JSON_ARRAYAGG(seq), COUNT(*) INTO j, n FROM (SELECT seq FROM outbox_queue WHERE next_attempt_at <= NOW(3) ORDER BY next_attempt_at, seq LIMIT 100) c;
    IF n > 0 THEN
      UPDATE JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_queue q ON q.seq = r.s SET q.lease_owner = 'r1', q.lease_expires_at = NOW(3) + INTERVAL 1 HOUR, q.next_attempt_at = NOW(3) + INTERVAL 1 HOUR;
      SELECT SUM(LENGTH(o.data) + LENGTH(o.id) + LENGTH(o.type)) INTO @bytes FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s;
    END IF;
    COMMIT;
    IF n > 0 THEN
      START TRANSACTION;
      DELETE q FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_queue q ON q.seq = r.s WHERE q.lease_owner = 'r1';
      INSERT INTO outbox_sent (seq, sent_at, http_status, duration_ms, relayer) SELECT r.s, NOW(3), 202, 1, 'r1' FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r;
      COMMIT;
    END IF;
  END WHILE;
END;;
CREATE PROCEDURE relay_queue_lease()
BEGIN
  DECLARE j LONGTEXT;
  DECLARE n INT DEFAULT 1;
  WHILE n > 0 DO
    START TRANSACTION;
    SELECT JSON_ARRAYAGG(seq), COUNT(*) INTO j, n FROM (SELECT seq FROM outbox_queue WHERE next_attempt_at <= NOW(3) ORDER BY next_attempt_at, seq LIMIT 100) c;
    IF n > 0 THEN
      UPDATE JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_queue q ON q.seq = r.s SET q.lease_owner = 'r1', q.lease_expires_at = NOW(3) + INTERVAL 1 HOUR, q.next_attempt_at = NOW(3) + INTERVAL 1 HOUR;
      SELECT SUM(LENGTH(o.data) + LENGTH(o.id) + LENGTH(o.type)) INTO @bytes FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s;
    END IF;
    COMMIT;
    IF n > 0 THEN
      START TRANSACTION;
      DELETE q FROM JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_queue q ON q.seq = r.s WHERE q.lease_owner = 'r1';
      UPDATE JSON_TABLE(j, '$[*]' COLUMNS (s BIGINT PATH '$')) r STRAIGHT_JOIN outbox_events o ON o.seq = r.s SET o.status = 'sent', o.attempts = o.attempts + 1, o.last_http_status = 202, o.sent_at = NOW(3);
      COMMIT;
    END IF;
  END WHILE;
END;;
DELIMITER ;
