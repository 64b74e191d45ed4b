import type { Connection, RowDataPacket } from 'mysql2/promise';

/** How gameday opens an admin connection to one db host (lab: root over its socket). */
export type MysqlConnector = (hostName: string) => Promise<Connection>;

export async function withConnection<T>(connect: MysqlConnector, host: string, fn: (c: Connection) => Promise<T>): Promise<T> {
  const conn = await connect(host);
  try {
    return await fn(conn);
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

/** The readiness facts a gate needs about one MariaDB server. */
export interface MysqlReadiness {
  readOnly: boolean;
  /** false when the server has no replication configured (a primary). */
  replicating: boolean;
  ioRunning: boolean;
  sqlRunning: boolean;
  /** NULL (null) means "not ready": the SQL thread does not know how far behind it is. */
  secondsBehindMaster: number | null;
  /** Age of the primary's heartbeat row as seen here, in ms (null when absent). */
  heartbeatLagMs: number | null;
  gtidBinlogPos: string;
  gtidSlavePos: string;
  masterHost: string | null;
  lastError: string | null;
}

export async function mysqlReadiness(conn: Connection): Promise<MysqlReadiness> {
  const [[vars]] = await conn.query<RowDataPacket[]>('SELECT @@read_only AS ro, @@gtid_binlog_pos AS binlog, @@gtid_slave_pos AS slave');
  const [slave] = await conn.query<RowDataPacket[]>('SHOW SLAVE STATUS');
  const s = slave[0];
  let heartbeatLagMs: number | null = null;
  try {
    const [[hb]] = await conn.query<RowDataPacket[]>('SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) AS us FROM gameday.heartbeat WHERE id = 1');
    if (hb) heartbeatLagMs = Math.max(0, Number(hb.us) / 1000);
  } catch {
    /* no heartbeat table: lag is known only from Seconds_Behind_Master */
  }
  return {
    readOnly: Number(vars.ro) === 1,
    replicating: s !== undefined,
    ioRunning: s?.Slave_IO_Running === 'Yes',
    sqlRunning: s?.Slave_SQL_Running === 'Yes',
    secondsBehindMaster: s && s.Seconds_Behind_Master !== null ? Number(s.Seconds_Behind_Master) : null,
    heartbeatLagMs,
    gtidBinlogPos: String(vars.binlog ?? ''),
    gtidSlavePos: String(vars.slave ?? ''),
    masterHost: s?.Master_Host ?? null,
    lastError: s ? (s.Last_SQL_Error || s.Last_IO_Error || null) : null,
  };
}

/**
 * A replica is ready to take reads when both threads run, it knows its lag,
 * and the heartbeat (or Seconds_Behind_Master, when no heartbeat) is under
 * the limit. Returns the reason when it is not.
 */
export function replicaReady(r: MysqlReadiness, maxLagMs: number): { ok: boolean; detail: string } {
  if (!r.replicating) return { ok: false, detail: 'not replicating' };
  if (!r.ioRunning || !r.sqlRunning) return { ok: false, detail: `threads IO=${r.ioRunning} SQL=${r.sqlRunning}${r.lastError ? `: ${r.lastError}` : ''}` };
  if (r.secondsBehindMaster === null) return { ok: false, detail: 'Seconds_Behind_Master is NULL' };
  const lagMs = r.heartbeatLagMs ?? r.secondsBehindMaster * 1000;
  if (lagMs > maxLagMs) return { ok: false, detail: `lag ${Math.round(lagMs)} ms > ${maxLagMs} ms` };
  return { ok: true, detail: `lag ${Math.round(lagMs)} ms` };
}

/** How long past its own timeout a MASTER_GTID_WAIT may go unanswered before the server counts as hung. */
export const GTID_WAIT_GRACE_MS = 3000;

/**
 * MASTER_GTID_WAIT: true when this replica has applied everything up to `gtid` within the timeout.
 * A server that stops answering mid-wait (frozen, or its host lost) would hold the caller for good,
 * and a switchover's old primary read-only with it: past the timeout and a grace, the connection is
 * destroyed and the wait fails.
 */
export async function waitForGtid(conn: Connection, gtid: string, timeoutS: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      conn.destroy();
      reject(new Error(`no answer to MASTER_GTID_WAIT within ${timeoutS} s + ${GTID_WAIT_GRACE_MS / 1000} s: the server hangs`));
    }, timeoutS * 1000 + GTID_WAIT_GRACE_MS);
  });
  try {
    const [[row]] = await Promise.race([conn.query<RowDataPacket[]>('SELECT MASTER_GTID_WAIT(?, ?) AS r', [gtid, timeoutS]), hung]);
    return Number(row.r) === 0;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Where the server's read_only comes from, as MariaDB reports it
 * (information_schema.SYSTEM_VARIABLES.GLOBAL_VALUE_ORIGIN): gameday's
 * contract is that every server's config starts it read-only
 * (docs/boot-guards.md). 'runtime': set since start (SET GLOBAL); what the
 * config says cannot be read over SQL then.
 */
export type ReadOnlyOrigin = 'config-on' | 'config-off' | 'default-off' | 'runtime';

export async function readOnlyOrigin(conn: Connection): Promise<ReadOnlyOrigin> {
  const [[row]] = await conn.query<RowDataPacket[]>("SELECT GLOBAL_VALUE AS v, GLOBAL_VALUE_ORIGIN AS origin FROM information_schema.SYSTEM_VARIABLES WHERE VARIABLE_NAME = 'READ_ONLY'");
  const origin = String(row?.origin ?? '');
  if (origin === 'CONFIG' || origin === 'COMMAND-LINE') return row.v === 'ON' ? 'config-on' : 'config-off';
  if (origin === 'COMPILE-TIME') return 'default-off';
  return 'runtime';
}
