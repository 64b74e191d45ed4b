import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * The heartbeat (pt-heartbeat style): a row the primary's event rewrites
 * every 250 ms; a replica's lag is the age of the row it has applied.
 *
 * The event runs as its definer, `gameday_heartbeat@localhost`, a locked
 * login that may only write the heartbeat row, so `read_only` stops it on
 * any server that is not the primary (a root-defined event beats on through
 * read_only, and every beat on a former primary is a transaction the new
 * primary lacks: an errant GTID). Whoever runs ALTER EVENT becomes its
 * definer unless the statement names one, so every ALTER here names it.
 * A fleet installs the same SQL: deploy/mariadb/gameday-heartbeat.sql.
 */

const HEARTBEAT_SCHEMA = 'gameday';
const EVENT_NAME = 'heartbeat_tick';
const HEARTBEAT_EVENT = `${HEARTBEAT_SCHEMA}.${EVENT_NAME}`;
const HEARTBEAT_USER = 'gameday_heartbeat';
const DEFINER = `'${HEARTBEAT_USER}'@'localhost'`;
/** A heartbeat every this many ms: the health agent's lag reading is never older than one beat. */
const HEARTBEAT_EVERY_MS = 250;
const BEATS_PER_RUN = 1000 / HEARTBEAT_EVERY_MS;

export const BEAT = `INSERT INTO ${HEARTBEAT_SCHEMA}.heartbeat (id, ts, server_id) VALUES (1, NOW(6), @@server_id)
  ON DUPLICATE KEY UPDATE ts = VALUES(ts), server_id = VALUES(server_id)`;

/** MariaDB's "Unknown event": a fleet without gameday's heartbeat. */
const ER_EVENT_DOES_NOT_EXIST = 1539;
/** MariaDB's "There is no such grant defined for user": the definer login is missing. */
const ER_NONEXISTING_GRANT = 1141;

/**
 * The heartbeat's schema, table, definer and event, run once on the primary
 * (binlogged: the replicas get them, the event SLAVESIDE_DISABLED). An event
 * runs at most once a second (its interval is a whole number), so each run
 * beats four times, 250 ms apart, each beat its own transaction.
 */
export function heartbeatSetupSql(): string[] {
  return [
    `CREATE DATABASE IF NOT EXISTS ${HEARTBEAT_SCHEMA}`,
    `CREATE TABLE IF NOT EXISTS ${HEARTBEAT_SCHEMA}.heartbeat (
  id TINYINT UNSIGNED PRIMARY KEY,
  ts DATETIME(6) NOT NULL,
  server_id INT UNSIGNED NOT NULL
) ENGINE=InnoDB`,
    `CREATE USER IF NOT EXISTS ${DEFINER} ACCOUNT LOCK`,
    // EVENT: an event's definer needs it to run the event; SELECT: ON DUPLICATE KEY UPDATE reads the row.
    `GRANT EVENT ON ${HEARTBEAT_SCHEMA}.* TO ${DEFINER}`,
    `GRANT SELECT, INSERT, UPDATE ON ${HEARTBEAT_SCHEMA}.heartbeat TO ${DEFINER}`,
    `CREATE DEFINER = ${DEFINER} EVENT IF NOT EXISTS ${HEARTBEAT_EVENT} ON SCHEDULE EVERY 1 SECOND DO
  FOR beat IN 1 .. ${BEATS_PER_RUN} DO
    ${BEAT.replace('\n  ', '\n    ')};
    IF beat < ${BEATS_PER_RUN} THEN DO SLEEP(${HEARTBEAT_EVERY_MS / 1000}); END IF;
  END FOR`,
  ];
}

const errno = (err: unknown) => (err as { errno?: number }).errno;

/**
 * Refuses a definer that read_only would not stop: missing (the event could
 * not run, and every replica's lag would grow) or holding SUPER, READ ONLY
 * ADMIN or ALL PRIVILEGES. No grant line read is no pass either.
 */
async function checkDefiner(conn: Connection): Promise<void> {
  const fix = 'run deploy/mariadb/gameday-heartbeat.sql on the primary (docs/boot-guards.md)';
  let rows: RowDataPacket[];
  try {
    [rows] = await conn.query<RowDataPacket[]>(`SHOW GRANTS FOR ${DEFINER}`);
  } catch (err) {
    if (errno(err) === ER_NONEXISTING_GRANT) throw new Error(`the heartbeat's login ${HEARTBEAT_USER}@localhost does not exist here: ${fix}`);
    throw err;
  }
  const grants = rows.map((r) => String(Object.values(r)[0] ?? ''));
  if (grants.length === 0) throw new Error(`SHOW GRANTS FOR ${HEARTBEAT_USER}@localhost answered nothing: cannot tell whether read_only stops the heartbeat`);
  const strong = grants.find((g) => /\bON \*\.\*/i.test(g) && /\b(SUPER|READ ONLY ADMIN|ALL PRIVILEGES)\b/i.test(g));
  if (strong) throw new Error(`the heartbeat's login ${HEARTBEAT_USER}@localhost is not stopped by read_only (${strong}): revoke it, ${fix}`);
}

/**
 * Enables the heartbeat event on this server (not binlogged: each server
 * keeps its own event state), its definer checked first. False when the
 * server has no heartbeat event (a fleet without one).
 */
export async function enableHeartbeat(conn: Connection): Promise<boolean> {
  await conn.query('SET SESSION sql_log_bin = 0');
  try {
    const [found] = await conn.query<RowDataPacket[]>('SELECT 1 FROM information_schema.EVENTS WHERE EVENT_SCHEMA = ? AND EVENT_NAME = ?', [HEARTBEAT_SCHEMA, EVENT_NAME]);
    if (found.length === 0) return false;
    await checkDefiner(conn);
    await conn.query(`ALTER DEFINER = ${DEFINER} EVENT ${HEARTBEAT_EVENT} ENABLE`);
    return true;
  } finally {
    await conn.query('SET SESSION sql_log_bin = 1');
  }
}

/**
 * Disables the heartbeat event here (not binlogged) and ends a run of it
 * that is under way: DISABLE only stops the next runs, and the event beats
 * several times per run, each beat a transaction of its own. Event runs
 * show as `Connect` threads in the event's schema. A server without the
 * event has nothing to stop; any other error is thrown.
 */
export async function stopHeartbeat(conn: Connection, timeoutMs = 3000): Promise<void> {
  await conn.query('SET SESSION sql_log_bin = 0');
  try {
    await conn.query(`ALTER DEFINER = ${DEFINER} EVENT ${HEARTBEAT_EVENT} DISABLE`);
  } catch (err) {
    if (errno(err) !== ER_EVENT_DOES_NOT_EXIST) throw err;
  }
  const runs = async () => {
    const [rows] = await conn.query<RowDataPacket[]>(
      "SELECT id FROM information_schema.processlist WHERE command = 'Connect' AND db = ? AND user NOT IN ('system user', 'event_scheduler') AND id <> CONNECTION_ID()",
      [HEARTBEAT_SCHEMA],
    );
    return rows.map((r) => Number(r.id));
  };
  const deadline = Date.now() + timeoutMs;
  // Twice empty, 100 ms apart: a run the scheduler started just before DISABLE may not show at once.
  for (let quiet = 0; quiet < 2; ) {
    const ids = await runs();
    quiet = ids.length === 0 ? quiet + 1 : 0;
    if (ids.length > 0 && Date.now() > deadline) throw new Error(`the heartbeat event still runs (threads ${ids.join(', ')}) ${timeoutMs} ms after it was disabled`);
    for (const id of ids) await conn.query(`KILL ${id}`).catch(() => undefined);
    if (quiet < 2) await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
