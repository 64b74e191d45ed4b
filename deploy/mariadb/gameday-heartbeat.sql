-- gameday's heartbeat (docs/boot-guards.md): run once on the primary as an
-- admin, `mariadb < gameday-heartbeat.sql`; the replicas get it through the
-- binlog, the event disabled there. The primary's event rewrites one row every
-- 250 ms; a replica's lag is the age of the row it has applied.
-- The event runs as a locked login that may write only that row, so
-- read_only stops it on every server that is not the primary: a root-defined
-- event beats on through read_only, and each beat on a former primary is a
-- transaction the new primary lacks (an errant GTID). gameday enables and
-- disables the event itself (switchover, failover-db) and names this definer
-- each time, so an older event defined by root takes it at the next hand-off.
-- The lab runs the same statements (drivers/mysql/heartbeat.ts; a unit test
-- keeps the two the same).
CREATE DATABASE IF NOT EXISTS gameday;
CREATE TABLE IF NOT EXISTS gameday.heartbeat (
  id TINYINT UNSIGNED PRIMARY KEY,
  ts DATETIME(6) NOT NULL,
  server_id INT UNSIGNED NOT NULL
) ENGINE=InnoDB;
CREATE USER IF NOT EXISTS 'gameday_heartbeat'@'localhost' ACCOUNT LOCK;
GRANT EVENT ON gameday.* TO 'gameday_heartbeat'@'localhost';
GRANT SELECT, INSERT, UPDATE ON gameday.heartbeat TO 'gameday_heartbeat'@'localhost';
DELIMITER //
CREATE DEFINER = 'gameday_heartbeat'@'localhost' EVENT IF NOT EXISTS gameday.heartbeat_tick ON SCHEDULE EVERY 1 SECOND DO
  FOR beat IN 1 .. 4 DO
    INSERT INTO gameday.heartbeat (id, ts, server_id) VALUES (1, NOW(6), @@server_id)
    ON DUPLICATE KEY UPDATE ts = VALUES(ts), server_id = VALUES(server_id);
    IF beat < 4 THEN DO SLEEP(0.25); END IF;
  END FOR//
DELIMITER ;
