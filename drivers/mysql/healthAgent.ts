/**
 * The db host's health agent (as clustercheck is for Galera): HAProxy's pools
 * ask it over HTTP whether this MariaDB may take writes (/primary) or reads
 * (/replica). Run on each db host as `gameday agent db-health` (a systemd unit
 * for fleets: deploy/systemd/gameday-db-health.service; the lab runs the same).
 *
 * /primary: writable (read_only OFF) and not replicating from anyone.
 *
 * /replica, the rule:
 * 1. Replicating, with the SQL thread running. A stopped SQL thread (an
 *    error, or STOP SLAVE) applies nothing: out.
 * 2. In while the heartbeat lag is within the limit. The lag is the age of
 *    the newest heartbeat row applied here, which the primary rewrites every
 *    250 ms: it counts what was not yet received and what was received but
 *    not yet applied alike. The IO thread's state does not matter here.
 * 3. Over the limit, but the primary says it has nothing newer: the IO
 *    thread is connected, everything received is applied, a replication
 *    heartbeat (MASTER_HEARTBEAT_PERIOD) arrived within the limit, and this
 *    agent last saw the replica caught up (rule 2 or 3) with this same
 *    primary. The heartbeat speaks for the server it follows, not for the
 *    fleet: a replica that came back following a former primary (idle,
 *    read-only) while another was promoted gets heartbeats too, and was never
 *    seen caught up with it since its agent started, so it stays out. A primary
 *    sends one only when it has had nothing to send for a period, so the
 *    replica holds all it wrote: a primary that takes no writes (read-only
 *    after a power-on, as every server boots, or during a hand-off) writes
 *    no heartbeat row either, and its replicas are current, not behind.
 *    "Arrived within" counts from the check before the one that saw the
 *    counter grow: that is the earliest it can have come.
 * 4. Over the limit, the heartbeat's age alone cannot tell a replica left
 *    behind by a primary that goes on taking writes (stale: out) from one
 *    whose primary is gone (nothing newer exists anywhere: the replica is as
 *    current as anything reachable). When the primary is lost, the IO thread
 *    shows Connecting at once if the primary's sockets closed, or stays Yes
 *    until slave_net_timeout if it went dark; either way the replica stays
 *    in when all of these hold:
 *    a. the primary does not accept a TCP connection from here (a dark or
 *       stopped primary takes no writes), or accepted none until less than
 *       the lag limit ago (it just came back, and replication is
 *       reconnecting: it cannot be further behind than that);
 *    b. everything received is applied (Exec_Master_Log_Pos has reached
 *       Read_Master_Log_Pos in the same binlog file), so it has all of the
 *       primary's last words that reached it;
 *    c. this agent last saw it within the limit (rule 2 or 3), not over it with
 *       the primary reachable: a replica that was already behind when it
 *       lost its primary, or was powered off and came back after the primary
 *       died (the outage), stays out. A restarted agent starts out "behind".
 *    Otherwise out: a lagging replica whose primary is up, or that still has
 *    relay log to apply.
 * What is left is a partition that cuts this host off from a primary that
 * others still write to: that replica serves what it had.
 *
 * Every check asks MariaDB afresh; checks that arrive while a query is
 * running wait for its answer instead of starting another (at most one
 * query in flight, so a server that blocks queries does not pile up
 * threads). A check answers within CHECK_BUDGET_MS, under HAProxy's
 * `timeout check`: no answer in time is a failed check.
 */
import { createServer, type Server } from 'node:http';
import { acceptsTcp } from '../net/tcp.js';
import { createConnection, type Connection, type RowDataPacket } from 'mysql2/promise';

/** A check answers within this, or fails: HAProxy's `timeout check` is 500 ms. */
const CHECK_BUDGET_MS = 300;
/** A query stuck longer than this gives up its connection (the next check opens a new one). */
const QUERY_TIMEOUT_MS = 5000;
/** Is the primary still there? A dark host does not answer a TCP connect: this is how long to wait for one. */
const PRIMARY_PROBE_MS = 150;

interface Health {
  primary: boolean;
  replica: boolean;
  reason: string;
  lagMs: number | null;
}

export interface DbHealthAgentOptions {
  /** Where HAProxy's checks reach it. */
  address: string;
  port: number;
  /** The local MariaDB's socket, and the login that may read its replication status. */
  socketPath: string;
  user: string;
  password?: string;
  /** A replica further behind than this leaves the read pool. */
  maxLagMs: number;
}

/** Starts the agent; resolves once it listens. */
export function startDbHealthAgent(o: DbHealthAgentOptions): Promise<Server> {
  const { address, port, socketPath, user, password, maxLagMs } = o;
  let conn: Connection | undefined;

  async function query<T extends RowDataPacket>(sql: string): Promise<T[]> {
    conn ??= await createConnection({ socketPath, user, password, connectTimeout: 1000 });
    try {
      const [rows] = await conn.query<T[]>({ sql, timeout: QUERY_TIMEOUT_MS });
      return rows;
    } catch (err) {
      conn.destroy();
      conn = undefined;
      throw err;
    }
  }

  /** Rules 3 and 4c: the primary (host:port) it was caught up with the last time a verdict was reached with the primary reachable. */
  let caughtUpWith: string | undefined;
  /** Rule 4a: when a check last found the primary not accepting connections. */
  let primaryLastMissingAt = Number.NEGATIVE_INFINITY;
  /** Rule 3: the replication heartbeats counted at the last check, and the earliest the newest one can have arrived. */
  let heartbeats = { count: -1, checkedAt: Number.NEGATIVE_INFINITY };
  let heartbeatNotBefore = Number.NEGATIVE_INFINITY;

  let heartbeatsFrom: string | undefined;

  function countHeartbeats(primary: string, count: number): void {
    const now = Date.now();
    // Another primary: its heartbeats say nothing of the last one's.
    if (primary !== heartbeatsFrom) {
      heartbeatsFrom = primary;
      heartbeats = { count: -1, checkedAt: Number.NEGATIVE_INFINITY };
      heartbeatNotBefore = Number.NEGATIVE_INFINITY;
    }
    // Grown since the last check: it arrived after that check. A reset counter (a new connection) only sets the baseline.
    if (heartbeats.count >= 0 && count > heartbeats.count) heartbeatNotBefore = heartbeats.checkedAt;
    heartbeats = { count, checkedAt: now };
  }

  function out(reason: string, lagMs: number | null = null): Health {
    return { primary: false, replica: false, reason, lagMs };
  }

  function asReplica(reason: string, lagMs: number | null): Health {
    return { primary: false, replica: true, reason, lagMs };
  }

  async function heartbeatLagMs(): Promise<number | null> {
    const [hb] = await query<RowDataPacket>('SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) AS lag_us FROM gameday.heartbeat WHERE id = 1');
    return hb ? Math.max(0, Number(hb.lag_us) / 1000) : null;
  }

  async function evaluate(): Promise<Health> {
    const [ro] = await query<RowDataPacket>('SELECT @@read_only AS ro');
    // SHOW ALL SLAVES STATUS: SHOW SLAVE STATUS's columns and the replication heartbeats received (rule 3).
    const slave = (await query<RowDataPacket>('SHOW ALL SLAVES STATUS')).filter((r) => r.Connection_name === '');
    if (slave.length === 0) {
      return ro.ro ? out('read-only and not replicating') : { primary: true, replica: false, reason: 'writable primary', lagMs: 0 };
    }
    const s = slave[0];
    const primary = `${s.Master_Host}:${s.Master_Port}`;
    countHeartbeats(primary, Number(s.Slave_received_heartbeats));
    if (s.Slave_SQL_Running !== 'Yes') return out(`SQL thread ${s.Slave_SQL_Running}${s.Last_SQL_Error ? `: ${s.Last_SQL_Error}` : ''}`);
    const lagMs = await heartbeatLagMs();
    const lagText = lagMs === null ? 'no heartbeat yet' : `lag ${Math.round(lagMs)} ms`;
    const io = `IO thread ${s.Slave_IO_Running}`;
    if (lagMs !== null && lagMs <= maxLagMs) {
      caughtUpWith = primary;
      return asReplica(`replica, ${lagText}, ${io}`, lagMs);
    }

    const caughtUp = caughtUpWith === primary;
    const appliedAll = s.Relay_Master_Log_File === s.Master_Log_File && Number(s.Exec_Master_Log_Pos) === Number(s.Read_Master_Log_Pos);
    const heartbeatAge = Date.now() - heartbeatNotBefore;
    if (caughtUp && appliedAll && s.Slave_IO_Running === 'Yes' && heartbeatAge <= maxLagMs) {
      return asReplica(`primary ${primary} sent a replication heartbeat within ${Math.round(heartbeatAge)} ms: it has nothing newer; applied all it received (${lagText}, ${io})`, lagMs);
    }
    // A connect accepted: it is up and could be taking writes.
    const missing = !(await acceptsTcp(String(s.Master_Host), Number(s.Master_Port), PRIMARY_PROBE_MS));
    if (missing) primaryLastMissingAt = Date.now();
    const primaryBackFor = Date.now() - primaryLastMissingAt;
    if (!missing && primaryBackFor > maxLagMs) caughtUpWith = undefined;
    if (appliedAll && caughtUpWith === primary) {
      const why = missing ? `primary ${primary} unreachable` : `primary ${primary} back for ${primaryBackFor} ms, replication reconnecting`;
      return asReplica(`${why}; applied all it received (${lagText}, ${io}): as current as anything reachable`, lagMs);
    }
    const why = !appliedAll ? 'relay log not yet applied' : missing ? 'already behind when it lost its primary' : `primary ${primary} reachable`;
    return out(`${lagText} over ${maxLagMs} ms, ${io} (${why})`, lagMs);
  }

  /** The evaluation in flight, shared by every check that arrives while it runs. */
  let inFlight: Promise<Health> | undefined;

  function currentHealth(): Promise<Health> {
    inFlight ??= evaluate()
      .catch((err: Error) => out(`mariadb unreachable: ${err.message}`))
      .finally(() => (inFlight = undefined));
    return inFlight;
  }

  function withinBudget(health: Promise<Health>): Promise<Health> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<Health>((resolve) => (timer = setTimeout(() => resolve(out(`mariadb did not answer within ${CHECK_BUDGET_MS} ms`)), CHECK_BUDGET_MS)));
    return Promise.race([health, late]).finally(() => clearTimeout(timer));
  }

  const server = createServer((req, res) => {
    void withinBudget(currentHealth()).then((h) => {
      const ok = req.url === '/primary' ? h.primary : req.url === '/replica' ? h.replica : true;
      res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json' });
      res.end(JSON.stringify(h));
    });
  });
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => resolve(server));
  });
}
