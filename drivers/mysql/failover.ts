import type { Connection, RowDataPacket } from 'mysql2/promise';
import { covers, parseGtidPosition, type ErrantRange } from './gtid.js';
import { BEAT, enableHeartbeat, stopHeartbeat } from './heartbeat.js';

/**
 * The SQL of an unplanned failover and of the old primary's rejoin (MariaDB,
 * GTID replication). The decisions (which replica, what is errant) are in
 * gtid.ts and the runbooks; this file only reads and acts.
 */

/** Same settings as the lab's bootstrap and the switchover: GTID from the replica's own position, quick reconnects. */
const CHANGE_MASTER = `CHANGE MASTER TO MASTER_HOST = ?, MASTER_PORT = ?, MASTER_USER = ?, MASTER_PASSWORD = ?,
  MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1, MASTER_HEARTBEAT_PERIOD = 1`;

export interface ReplicaThreads {
  masterHost: string;
  masterPort: number;
  /** Slave_IO_Running: Yes, No or Connecting. */
  io: string;
  /** Slave_SQL_Running: Yes or No. */
  sql: string;
  lastIoError: string;
  lastSqlError: string;
  /** What the IO thread has received (may be ahead of what is applied). */
  gtidIoPos: string;
}

/** One server's replication facts, as a failover reads them. */
export interface ReplicationView {
  serverId: number;
  readOnly: boolean;
  gtidBinlogPos: string;
  /** What it applied from its primaries. */
  gtidSlavePos: string;
  /** Per domain the later of binlog and slave positions (includes its own writes). */
  gtidCurrentPos: string;
  /** Absent when no replication is configured. */
  replica?: ReplicaThreads;
}

export async function replicationView(conn: Connection): Promise<ReplicationView> {
  const [[v]] = await conn.query<RowDataPacket[]>(
    'SELECT @@server_id AS id, @@read_only AS ro, @@gtid_binlog_pos AS binlog, @@gtid_slave_pos AS slave, @@gtid_current_pos AS cur',
  );
  const [rows] = await conn.query<RowDataPacket[]>('SHOW SLAVE STATUS');
  const s = rows[0];
  return {
    serverId: Number(v.id),
    readOnly: Number(v.ro) === 1,
    gtidBinlogPos: String(v.binlog ?? ''),
    gtidSlavePos: String(v.slave ?? ''),
    gtidCurrentPos: String(v.cur ?? ''),
    replica: s
      ? {
          masterHost: String(s.Master_Host),
          masterPort: Number(s.Master_Port),
          io: String(s.Slave_IO_Running),
          sql: String(s.Slave_SQL_Running),
          lastIoError: String(s.Last_IO_Error ?? ''),
          lastSqlError: String(s.Last_SQL_Error ?? ''),
          gtidIoPos: String(s.Gtid_IO_Pos ?? ''),
        }
      : undefined,
  };
}

/** The replica's link to its primary is up: IO thread connected and no IO error. */
export function ioConnected(r: ReplicaThreads): boolean {
  return r.io === 'Yes' && r.lastIoError === '';
}

/** Everything the IO thread received has been applied (gtid_slave_pos reached Gtid_IO_Pos). */
export function relayLogApplied(v: ReplicationView): boolean {
  if (!v.replica) return true;
  return covers(parseGtidPosition(v.gtidSlavePos, '@@gtid_slave_pos'), parseGtidPosition(v.replica.gtidIoPos, 'Gtid_IO_Pos'));
}

/** Freezes what a replica receives: nothing more can arrive (say, from an old primary coming back). */
export async function stopIoThread(conn: Connection): Promise<void> {
  await conn.query('STOP SLAVE IO_THREAD');
}

export interface PromotionRecord {
  /** What it had received from the lost primary: its gtid_slave_pos, which stays put while it is primary. */
  promotedAtGtid: string;
  /** Its gtid_current_pos at promotion, before any write of its own. */
  gtidCurrentPos: string;
}

/**
 * Makes a replica the writable primary: replication stopped and forgotten,
 * the heartbeat event enabled here (not binlogged: each server keeps its
 * own event state), read_only off last. Safe to run again.
 */
export async function promoteToPrimary(conn: Connection): Promise<PromotionRecord> {
  await conn.query('STOP SLAVE');
  const [[pos]] = await conn.query<RowDataPacket[]>('SELECT @@gtid_slave_pos AS slave, @@gtid_current_pos AS cur');
  await conn.query('RESET SLAVE ALL');
  const beats = await enableHeartbeat(conn);
  await conn.query('SET GLOBAL read_only = OFF');
  // One beat at once (binlogged): a replica repointed here reads its lag from it, not from the lost primary's last beat.
  if (beats) await conn.query(BEAT);
  return { promotedAtGtid: String(pos.slave ?? ''), gtidCurrentPos: String(pos.cur ?? '') };
}

export interface ReplicationSource {
  address: { host: string; port: number };
  user: string;
  password: string;
}

/**
 * Points a server at a (new) primary with GTID. With `slavePos` the
 * replica's position is set first (a rejoining old primary, which has none);
 * without it, the replica goes on from its own gtid_slave_pos.
 */
export async function replicateFrom(conn: Connection, source: ReplicationSource, slavePos?: string): Promise<void> {
  await conn.query('STOP SLAVE');
  if (slavePos !== undefined) await conn.query('SET GLOBAL gtid_slave_pos = ?', [slavePos]);
  await conn.query(CHANGE_MASTER, [source.address.host, source.address.port, source.user, source.password]);
  await conn.query('START SLAVE');
}

/**
 * Waits until the replica has applied `target` (a GTID position), polling
 * its threads: a stopped SQL thread with an error fails at once instead of
 * letting a caller wait out its whole timeout. False when time ran out first.
 */
export async function waitUntilApplied(conn: Connection, target: string, timeoutMs: number): Promise<boolean> {
  const want = parseGtidPosition(target, 'target GTID position');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await replicationView(conn);
    if (v.replica?.sql === 'No' && v.replica.lastSqlError) throw new Error(`replication stopped: ${v.replica.lastSqlError}`);
    if (covers(parseGtidPosition(v.gtidSlavePos, '@@gtid_slave_pos'), want)) return true;
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Stops replication and leaves it stopped (a replica with errant transactions). */
export async function stopReplication(conn: Connection): Promise<void> {
  await conn.query('STOP SLAVE');
}

/**
 * Makes a server that came back refuse writes: read_only on, the client
 * sessions opened before it ended (they could be mid-transaction), and the
 * heartbeat event off (and a run of it under way ended): every beat would
 * be one more transaction the new primary lacks.
 * Returns its binlog position afterwards.
 */
export async function makeReadOnly(conn: Connection, replicationUser: string): Promise<string> {
  await conn.query('SET GLOBAL read_only = ON');
  // Client sessions end; the replicas' dump threads (the replication user's) do not.
  const [procs] = await conn.query<RowDataPacket[]>("SELECT id FROM information_schema.processlist WHERE user NOT IN ('root', 'system user', 'event_scheduler', ?) AND id <> CONNECTION_ID()", [replicationUser]);
  for (const p of procs) await conn.query(`KILL CONNECTION ${Number(p.id)}`).catch(() => undefined);
  await stopHeartbeat(conn);
  const [[row]] = await conn.query<RowDataPacket[]>('SELECT @@gtid_binlog_pos AS pos');
  return String(row.pos ?? '');
}

/**
 * Drops the server's binlog (RESET MASTER). Needed before it can replicate
 * from a point behind its own binlog: MariaDB refuses a gtid_slave_pos
 * older than the binlog's last GTID (error 1947).
 */
export async function discardBinlog(conn: Connection): Promise<void> {
  await conn.query('RESET MASTER');
}

/** One transaction of a binlog, as much as SHOW BINLOG EVENTS tells of it. */
export interface BinlogTransaction {
  gtid: string;
  /** Where it starts: for mysqlbinlog --start-position. */
  file: string;
  pos: number;
  /** Tables its row events wrote (db.table). */
  tables: string[];
  /** Statements it logged as such (DDL, statement-format DML), cut to 200 characters. */
  statements: string[];
}

export interface BinlogScan {
  transactions: BinlogTransaction[];
  /** false when it stopped at the limit: more transactions are in range. */
  complete: boolean;
}

/** Per domain the highest seq of a Gtid_list event ("[0-1-56,0-2-60]": a binlog state, one entry per server). */
function gtidListSeqs(info: string): Map<number, number> {
  const seqs = new Map<number, number>();
  for (const m of info.matchAll(/(\d+)-\d+-(\d+)/g)) seqs.set(Number(m[1]), Math.max(seqs.get(Number(m[1])) ?? 0, Number(m[2])));
  return seqs;
}

const PAGE = 2000;

/**
 * The transactions of the server's own binlog whose GTIDs fall in `ranges`:
 * the binlog files are walked back (each starts with the GTID state it
 * continues from) to the first that can hold the earliest of them, then read
 * forward, a page of events at a time.
 */
export async function binlogTransactions(conn: Connection, ranges: readonly ErrantRange[], limit = 1000): Promise<BinlogScan> {
  if (ranges.length === 0) return { transactions: [], complete: true };
  const [logs] = await conn.query<RowDataPacket[]>('SHOW BINARY LOGS');
  const files = logs.map((l) => String(l.Log_name));
  let first = files.length - 1;
  while (first > 0) {
    const [head] = await conn.query<RowDataPacket[]>('SHOW BINLOG EVENTS IN ? LIMIT 4', [files[first]]);
    const list = head.find((e) => e.Event_type === 'Gtid_list');
    const startSeqs = gtidListSeqs(String(list?.Info ?? ''));
    if (ranges.every((r) => (startSeqs.get(r.domain) ?? 0) < r.firstSeq)) break;
    first--;
  }

  const inRange = (domain: number, seq: number) => ranges.some((r) => r.domain === domain && seq >= r.firstSeq && seq <= r.lastSeq);
  const transactions: BinlogTransaction[] = [];
  let current: BinlogTransaction | undefined;
  for (const file of files.slice(Math.max(0, first))) {
    let from = 4;
    for (;;) {
      const [events] = await conn.query<RowDataPacket[]>(`SHOW BINLOG EVENTS IN ? FROM ${from} LIMIT ${PAGE}`, [file]);
      for (const e of events) {
        const type = String(e.Event_type);
        const info = String(e.Info ?? '');
        if (type === 'Gtid') {
          const m = /GTID (\d+)-(\d+)-(\d+)/.exec(info);
          current = m && inRange(Number(m[1]), Number(m[3])) ? { gtid: `${m[1]}-${m[2]}-${m[3]}`, file, pos: Number(e.Pos), tables: [], statements: [] } : undefined;
          if (current) {
            if (transactions.length >= limit) return { transactions, complete: false };
            transactions.push(current);
          }
        } else if (current && type === 'Table_map') {
          const table = /\((.+)\)$/.exec(info)?.[1];
          if (table && !current.tables.includes(table)) current.tables.push(table);
        } else if (current && type === 'Query' && !/^\s*(BEGIN|COMMIT)\s*$/i.test(info)) {
          current.statements.push(info.slice(0, 200));
        }
      }
      if (events.length < PAGE) break;
      from = Number(events[events.length - 1].End_log_pos);
    }
  }
  return { transactions, complete: true };
}
