import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';
import type { Host } from '../topology/index.js';
import { NOTIFICATIONS_DB, SCHEMA_SQL } from '../drivers/notificationStore.js';
import { heartbeatSetupSql } from '../drivers/mysql/heartbeat.js';
import type { LabContext, SeedSize } from './context.js';
import { mariadbPaths } from './configs/mariadb.js';
import { IDEMPOTENCY_SCHEMA_SQL } from './app/idempotency.js';
import { labSubnetPrefix } from './layout.js';

export async function rootConnection(lab: LabContext, host: Host, connectTimeoutMs = 10_000): Promise<Connection> {
  return createConnection({ socketPath: mariadbPaths(lab, host).socket, user: 'root', password: lab.state.secrets.dbRootPassword, multipleStatements: false, connectTimeout: connectTimeoutMs });
}

/** Where a fresh datadir's first start finds the statements that secure root (mariadbd's init-file). */
export function secureRootFile(lab: LabContext, host: Host): string {
  return join(mariadbPaths(lab, host).dir, 'secure-root.sql');
}

/**
 * Before the first start of a fresh datadir: every root account gets the
 * lab's password and anonymous accounts go. mariadbd runs the file
 * (init-file) before it takes any connection, so there is no moment when
 * root answers without a password (the install leaves it so, over the socket
 * and over TCP). Not binlogged: each server secures its own accounts. The
 * file holds the password: 0600 in a 0700 folder, removed once the server
 * is up (confirmRootSecured).
 */
export function writeSecureRootFile(lab: LabContext, host: Host): void {
  const password = lab.state.secrets.dbRootPassword;
  if (!password) return;
  if (!/^[0-9a-f]+$/.test(password)) throw new Error('the lab root password is not hex: it cannot go into SQL as is');
  const sql = [
    'SET SESSION sql_log_bin = 0;',
    ...['localhost', '127.0.0.1', '::1'].map((h) => `ALTER USER IF EXISTS 'root'@'${h}' IDENTIFIED BY '${password}';`),
    // Anonymous accounts, and root@<machine name>, which skip-name-resolve makes unusable.
    "DELETE FROM mysql.global_priv WHERE User = '' OR (User = 'root' AND Host NOT IN ('localhost', '127.0.0.1', '::1'));",
    'FLUSH PRIVILEGES;',
  ];
  writeFileSync(secureRootFile(lab, host), `${sql.join('\n')}\n`, { mode: 0o600 });
}

/** After that first start: root without a password is refused, and the file with the password is gone. */
export async function confirmRootSecured(lab: LabContext, host: Host): Promise<void> {
  const file = secureRootFile(lab, host);
  if (!existsSync(file)) return;
  const open = await createConnection({ socketPath: mariadbPaths(lab, host).socket, user: 'root' }).then(
    async (c) => (await c.end(), true),
    () => false,
  );
  rmSync(file, { force: true });
  if (open) throw new Error(`${host.name}: root still answers without a password after its first start (init-file ${file} did not run)`);
}

/** The lab's ops schema: the heartbeat (drivers/mysql/heartbeat.ts, as a fleet installs it) and the read markers. */
const OPS_SQL = [
  ...heartbeatSetupSql(),
  // The game days' read markers (chaos/probes/readMarkers.ts): written through the write pool, read through the read pool.
  `CREATE TABLE IF NOT EXISTS gameday.read_markers (
     run VARCHAR(64) NOT NULL,
     seq INT NOT NULL,
     at DATETIME(6) NOT NULL,
     PRIMARY KEY (run, seq)
   ) ENGINE=InnoDB`,
];

/**
 * Generates the notification center's data in SQL with the sequence engine:
 * `users` users, each with `notificationsPerUser` notifications spread over
 * time, `readPercent` % of them read. A million rows take seconds.
 */
export function seedSql(seed: SeedSize): string[] {
  const total = seed.users * seed.notificationsPerUser;
  const created = `NOW(3) - INTERVAL (${total} - seq) SECOND`;
  return [
    `INSERT INTO ${NOTIFICATIONS_DB}.users (id, name, created_at)
       SELECT seq, CONCAT('user-', seq), NOW(3) - INTERVAL 30 DAY FROM ${NOTIFICATIONS_DB}.seq_1_to_${seed.users}`,
    `INSERT INTO ${NOTIFICATIONS_DB}.notifications (id, user_id, title, body, created_at, read_at)
       SELECT seq, 1 + (seq - 1) MOD ${seed.users},
              CONCAT('Order #', seq, ' has shipped'),
              CONCAT('Your parcel ', seq, ' is on its way. ', REPEAT('Track it from your account page. ', 5)),
              ${created},
              IF(CRC32(seq) MOD 100 < ${seed.readPercent}, ${created} + INTERVAL 1 SECOND, NULL)
       FROM ${NOTIFICATIONS_DB}.seq_1_to_${total}`,
  ];
}

/**
 * Turns three fresh servers into a replicated fleet: users, GTID replication
 * from the primary, schema, heartbeat and seed data; waits until every
 * replica has applied all of it.
 */
export async function bootstrapDatabases(lab: LabContext): Promise<void> {
  const primary = lab.initialDbPrimary;
  const replicas = lab.hostsOf('db').filter((h) => h !== primary);
  const { appDbPassword, replPassword, probePassword } = lab.state.secrets;
  const hosts = `${labSubnetPrefix(lab.state.octet)}.%`; // the lab's hosts, and the operator at the bridge's address

  const p = await rootConnection(lab, primary);
  try {
    // Every server starts read-only by its config (docs/boot-guards.md); the seeding is one of the steps that may make a primary writable.
    await p.query('SET GLOBAL read_only = OFF');
    // Written to the binlog, so the replicas get the same users (needed after a switchover).
    for (const sql of [
      `CREATE USER IF NOT EXISTS 'repl'@'${hosts}' IDENTIFIED BY '${replPassword}'`,
      `GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'${hosts}'`,
      `CREATE USER IF NOT EXISTS 'app'@'${hosts}' IDENTIFIED BY '${appDbPassword}'`,
      ...SCHEMA_SQL,
      IDEMPOTENCY_SCHEMA_SQL,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON ${NOTIFICATIONS_DB}.* TO 'app'@'${hosts}'`,
      ...OPS_SQL,
      // The read-marker probe may touch its own table only.
      ...(probePassword
        ? [`CREATE USER IF NOT EXISTS 'gameday_probe'@'${hosts}' IDENTIFIED BY '${probePassword}'`, `GRANT SELECT, INSERT, DELETE ON gameday.read_markers TO 'gameday_probe'@'${hosts}'`]
        : []),
    ]) {
      await p.query(sql);
    }

    for (const replica of replicas) {
      const r = await rootConnection(lab, replica);
      try {
        await r.query(
          `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = 'repl', MASTER_PASSWORD = ?,
             MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1`,
          [primary.address, primary.services.mysql, replPassword],
        );
        await r.query('START SLAVE');
      } finally {
        await r.end();
      }
    }

    for (const sql of seedSql(lab.state.seed)) await p.query(sql);
    const [[pos]] = await p.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos');
    await Promise.all(replicas.map((replica) => waitForGtid(lab, replica, pos.pos as string)));
  } finally {
    await p.end();
  }
}

/** Waits until a replica has applied everything up to `gtid` (MASTER_GTID_WAIT). */
async function waitForGtid(lab: LabContext, replica: Host, gtid: string): Promise<void> {
  const r = await rootConnection(lab, replica);
  try {
    const [[row]] = await r.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, 120) AS result', [gtid]);
    if (Number(row.result) !== 0) throw new Error(`${replica.name} did not reach GTID ${gtid} in 120 s`);
  } finally {
    await r.end();
  }
}
