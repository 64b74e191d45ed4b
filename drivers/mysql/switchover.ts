import type { Connection, RowDataPacket } from 'mysql2/promise';
import { within } from '../../core/deadline.js';
import { GTID_WAIT_GRACE_MS, mysqlReadiness, withConnection, waitForGtid, type MysqlConnector } from './readiness.js';
import { replicationView } from './failover.js';
import { enableHeartbeat, stopHeartbeat } from './heartbeat.js';
import { errantCount, errantGtids, formatErrant, parseGtidPosition } from './gtid.js';

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
  /** Other replicas that had not applied the old primary's last write in time: repointed all the same (by GTID they go on from their own position), but behind. */
  replicasBehind: string[];
  /** Other replicas that could not be repointed at the new primary, with why: they still follow the old one (left degraded). */
  replicasNotRepointed: Array<{ host: string; error: string }>;
  /**
   * Why the old primary did not rejoin, when it did not: it binlogged writes
   * after it turned read-only (a user with SUPER or READ ONLY ADMIN), which
   * the new primary never got. Adopting them (gtid_slave_pos) would hide
   * them; it is left read-only and out of replication for a person to look at.
   */
  oldPrimaryNotRejoined?: string;
}

/** What the rest of a switchover does once the new primary takes writes. */
export type SwitchoverCompletion = Omit<SwitchoverResult, 'gtid' | 'writesRefusedMs'>;

/** Called between the phases, awaited: where the caller journals the phase, so that a resume can finish a half-done switchover. */
export interface SwitchoverPhases {
  /** The old primary refuses writes and `gtid` is its last position; the new primary is promoted next. A throw here is rolled back. */
  readOnly?(gtid: string): Promise<void>;
  /** The new primary was told to take writes. */
  promoted?(gtid: string): Promise<void>;
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
 *
 * Any failure before the new primary was told to take writes is rolled
 * back: the old primary takes writes again (read_only off, its heartbeat
 * on) and the new one replicates again, so a failed hand-off costs the GTID
 * wait, never a day of refused writes. A failure once that command was sent
 * is not rolled back (the new primary may be taking writes: two writers
 * would lose some); the error says so.
 */
export async function switchover(connect: MysqlConnector, t: SwitchoverTarget, catchUpTimeoutS = 30, phases: SwitchoverPhases = {}): Promise<SwitchoverResult> {
  const refusedAt = Date.now();
  const gtid = await withConnection(connect, t.oldPrimary, async (c) => {
    await c.query('SET GLOBAL read_only = ON');
    // Connections opened before read_only could still be mid-transaction: end them (not the replicas' dump threads).
    await killClientSessions(c, t.replicationUser.user);
    // Disable the heartbeat and end a run of it already under way: a late beat would be binlogged after the position taken below.
    await stopHeartbeat(c);
    const [[row]] = await c.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos');
    return String(row.pos);
  }).then(async (pos) => {
    await phases.readOnly?.(pos);
    return pos;
  }).catch(async (err: unknown) => {
    throw await rolledBack(connect, t, err, false);
  });

  let promoteSent = false;
  try {
    await withConnection(connect, t.newPrimary, async (c) => {
      if (!(await waitForGtid(c, gtid, catchUpTimeoutS))) throw new Error(`${t.newPrimary} did not reach ${gtid} in ${catchUpTimeoutS} s`);
      await c.query('STOP SLAVE');
      // Before it takes writes, so a heartbeat that cannot run here is a rollback, not a primary whose replicas all fall out for lag.
      await enableHeartbeat(c);
      promoteSent = true;
      await c.query('SET GLOBAL read_only = OFF');
      await c.query('RESET SLAVE ALL');
    });
  } catch (err) {
    if (promoteSent) throw new Error(`${(err as Error).message}; ${t.newPrimary} was told to take writes, so ${t.oldPrimary} is left read-only (not rolled back: two writers would lose writes); check which of them is writable, then repoint the pools`);
    throw await rolledBack(connect, t, err, true);
  }
  const writesRefusedMs = Date.now() - refusedAt;
  // The new primary takes writes whatever happens to this record: the rest of the switchover must run.
  await phases.promoted?.(gtid).catch(() => undefined);
  return { gtid, writesRefusedMs, ...(await completeSwitchover(connect, t, gtid, catchUpTimeoutS)) };
}

/**
 * Steps 3 and 4 of a switchover, once the new primary takes writes: the
 * other replicas follow it, and the old primary rejoins as its replica
 * unless it binlogged anything past `gtid` (the position taken when it
 * turned read-only). Safe to run again (a resume of a half-done hand-off):
 * a server that already follows the new primary is left as it is.
 */
export async function completeSwitchover(connect: MysqlConnector, t: SwitchoverTarget, gtid: string, catchUpTimeoutS = 30): Promise<SwitchoverCompletion> {
  const { host, port } = t.newPrimaryAddress;
  const { user, password } = t.replicationUser;
  const followsNewPrimary = async (c: Connection) => {
    const r = (await replicationView(c)).replica;
    return r !== undefined && r.masterHost === host && r.masterPort === port;
  };
  // The new primary takes writes now: a replica that fails here must not stop the others, nor the old primary's rejoin.
  const replicasBehind: string[] = [];
  const replicasNotRepointed: SwitchoverResult['replicasNotRepointed'] = [];
  for (const replica of t.otherReplicas) {
    await withConnection(connect, replica, async (c) => {
      if (await followsNewPrimary(c)) return;
      if (!(await waitForGtid(c, gtid, catchUpTimeoutS))) replicasBehind.push(replica);
      await c.query('STOP SLAVE');
      await c.query(CHANGE_MASTER, [host, port, user, password]);
      await c.query('START SLAVE');
    }).catch((err: unknown) => replicasNotRepointed.push({ host: replica, error: (err as Error).message }));
  }

  const oldPrimaryNotRejoined = await withConnection(connect, t.oldPrimary, async (c): Promise<string | undefined> => {
    if (await followsNewPrimary(c)) return undefined;
    // read_only does not stop a user with SUPER or READ ONLY ADMIN: what it wrote after `gtid` is on no other server.
    const binlogPos = (await replicationView(c)).gtidBinlogPos;
    const errant = errantGtids(parseGtidPosition(binlogPos, `${t.oldPrimary} @@gtid_binlog_pos`), parseGtidPosition(gtid, 'the switchover position'));
    if (errant.length > 0) {
      return `${t.oldPrimary} binlogged ${errantCount(errant)} transaction(s) after it turned read-only at ${gtid} (${formatErrant(errant)}: a user with SUPER or READ ONLY ADMIN wrote); ${t.newPrimary} never got them, so ${t.oldPrimary} is left read-only and out of replication`;
    }
    await c.query('SET GLOBAL gtid_slave_pos = @@gtid_binlog_pos');
    await c.query(CHANGE_MASTER, [host, port, user, password]);
    await c.query('START SLAVE');
    return undefined;
  });
  return { replicasBehind, replicasNotRepointed, ...(oldPrimaryNotRejoined ? { oldPrimaryNotRejoined } : {}) };
}

/** Ends every client session but gameday's own, the server's threads and the replicas' (the replication user's dump threads). */
export async function killClientSessions(c: Connection, replicationUser: string): Promise<void> {
  const [procs] = await c.query<RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE user NOT IN ('root', 'system user', 'event_scheduler', ?) AND id <> CONNECTION_ID()", [replicationUser]);
  for (const p of procs) await c.query(`KILL CONNECTION ${Number(p.id)}`).catch(() => undefined);
}

/**
 * Undoes a switchover that failed before the new primary took writes: the
 * old primary writable again with its heartbeat, the new one replicating
 * again (when its replication was stopped). Returns the error to throw,
 * which says what was rolled back, or what could not be.
 */
async function rolledBack(connect: MysqlConnector, t: SwitchoverTarget, cause: unknown, newPrimaryTouched: boolean): Promise<Error> {
  const why = (cause as Error).message;
  let heartbeat = '';
  try {
    await withConnection(connect, t.oldPrimary, async (c) => {
      await c.query('SET GLOBAL read_only = OFF');
      // Writes first: a heartbeat that cannot run costs the replicas' lag readings, not the writes.
      await enableHeartbeat(c).catch((err: Error) => {
        heartbeat = `, but its heartbeat is off (${err.message})`;
      });
    });
  } catch (err) {
    return new Error(`switchover from ${t.oldPrimary} to ${t.newPrimary} failed (${why}) and its rollback too (${(err as Error).message}): ${t.oldPrimary} may be left read-only; make it writable (SET GLOBAL read_only = OFF) once you know ${t.newPrimary} is not`);
  }
  // Best effort, and bounded: the writes are back already, and a hung candidate must not hold the step for good.
  if (newPrimaryTouched) {
    await within(withConnection(connect, t.newPrimary, async (c) => {
      await stopHeartbeat(c);
      await c.query('START SLAVE');
    }), GTID_WAIT_GRACE_MS).catch(() => undefined);
  }
  return new Error(`switchover from ${t.oldPrimary} to ${t.newPrimary} failed before ${t.newPrimary} took writes (${why}); rolled back: ${t.oldPrimary} takes writes again${heartbeat}`);
}

/** True when this server is the writable primary (not read-only, not replicating). */
export async function isWritablePrimary(connect: MysqlConnector, host: string): Promise<boolean> {
  const r = await withConnection(connect, host, mysqlReadiness);
  return !r.readOnly && !r.replicating;
}
