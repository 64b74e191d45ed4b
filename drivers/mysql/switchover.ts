import type { RowDataPacket } from 'mysql2/promise';
import { mysqlReadiness, withConnection, waitForGtid, type MysqlConnector } from './readiness.js';
import { stopHeartbeat } from './failover.js';

export interface SwitchoverTarget {
  /** db host names */
  oldPrimary: string;
  newPrimary: string;
  otherReplicas: string[];
  /** How replicas reach the new primary (replication user). */
  newPrimaryAddress: { host: string; port: number };
  replicationUser: { user: string; password: string };
}

export interface SwitchoverResult {
  gtid: string;
  /** How long writes were refused: from read_only on the old primary to writable on the new one. */
  writesRefusedMs: number;
}

const CHANGE_MASTER = `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
  MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1`;

/**
 * A graceful MariaDB switchover with GTID:
 * 1. the old primary refuses writes (read_only) and its position is taken;
 * 2. the new primary applies everything up to it (MASTER_GTID_WAIT), stops
 *    replicating and becomes writable; the heartbeat event moves with it;
 * 3. the other replicas, once caught up, follow the new primary;
 * 4. the old primary rejoins as a replica of the new one.
 * Writes are refused between 1 and 2 only. Nothing on the old primary is
 * binlogged after step 1, so it can rejoin without errant transactions.
 */
export async function switchover(connect: MysqlConnector, t: SwitchoverTarget, catchUpTimeoutS = 30): Promise<SwitchoverResult> {
  const refusedAt = Date.now();
  const gtid = await withConnection(connect, t.oldPrimary, async (c) => {
    await c.query('SET GLOBAL read_only = ON');
    // Connections opened before read_only could still be mid-transaction: end them.
    const [procs] = await c.query<RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE user NOT IN ('root', 'system user', 'event_scheduler', 'repl') AND id <> CONNECTION_ID()");
    for (const p of procs) await c.query(`KILL CONNECTION ${Number(p.id)}`).catch(() => undefined);
    // Disable the heartbeat and end a run of it already under way: a late beat would be binlogged after the position taken below.
    await stopHeartbeat(c);
    const [[row]] = await c.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos');
    return String(row.pos);
  });

  await withConnection(connect, t.newPrimary, async (c) => {
    if (!(await waitForGtid(c, gtid, catchUpTimeoutS))) {
      throw new Error(`${t.newPrimary} did not reach ${gtid} in ${catchUpTimeoutS} s; ${t.oldPrimary} is left read-only`);
    }
    await c.query('STOP SLAVE');
    await c.query('RESET SLAVE ALL');
    await c.query('SET SESSION sql_log_bin = 0');
    await c.query('ALTER EVENT gameday.heartbeat_tick ENABLE').catch(() => undefined);
    await c.query('SET GLOBAL read_only = OFF');
  });
  const writesRefusedMs = Date.now() - refusedAt;

  const { host, port } = t.newPrimaryAddress;
  const { user, password } = t.replicationUser;
  for (const replica of t.otherReplicas) {
    await withConnection(connect, replica, async (c) => {
      await waitForGtid(c, gtid, catchUpTimeoutS);
      await c.query('STOP SLAVE');
      await c.query(CHANGE_MASTER, [host, port, user, password]);
      await c.query('START SLAVE');
    });
  }

  await withConnection(connect, t.oldPrimary, async (c) => {
    await c.query('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos');
    await c.query(CHANGE_MASTER, [host, port, user, password]);
    await c.query('START SLAVE');
  });
  return { gtid, writesRefusedMs };
}

/** True when this server is the writable primary (not read-only, not replicating). */
export async function isWritablePrimary(connect: MysqlConnector, host: string): Promise<boolean> {
  const r = await withConnection(connect, host, mysqlReadiness);
  return !r.readOnly && !r.replicating;
}
