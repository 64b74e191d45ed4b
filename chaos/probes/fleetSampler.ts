import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Host, Inventory } from '../../topology/index.js';
import { showServers, type RuntimeEndpoint } from '../../drivers/haproxy/runtime.js';
import type { MysqlConnector } from '../../drivers/mysql/readiness.js';
import { sentinelPrimary, type RedisEndpoint } from '../../drivers/redis/readiness.js';
import type { PoolConnector } from './readMarkers.js';
import { connectWithin, within } from './deadline.js';

/** What the sampler needs of a fleet's drivers (the runbooks' FleetEnv has it). */
export interface ProbeAccess {
  haproxyEndpoint(proxy: Host): RuntimeEndpoint;
  mysql: MysqlConnector;
  /** The Sentinels to ask which Redis is primary, and the master name they watch (optional). */
  sentinels?: { endpoints: Array<RedisEndpoint & { name: string }>; masterName: string };
  /** Client connections through the proxies' MariaDB frontends (the read-marker probe); without it no-stale-reads is inconclusive. */
  pools?: PoolConnector;
}

export interface DbSample {
  readOnly: boolean;
  /** Replication configured (a replica), with its threads. */
  replicating: boolean;
  ioRunning: boolean;
  sqlRunning: boolean;
  /** Age of the heartbeat row here, in ms. */
  lagMs: number | null;
}

/** One look at the fleet: every proxy's server states, every db host's role and lag; null where it did not answer. */
export interface FleetSample {
  at: number;
  /** "proxy-1" -> "db_read/db-2" -> status (UP, DOWN, MAINT, "UP 1/2", ...). */
  proxies: Record<string, Record<string, string> | null>;
  db: Record<string, DbSample | null>;
  /** "sentinel-1" -> the host it names as the Redis primary (null: no answer). */
  sentinels: Record<string, string | null>;
  /** How long the whole sample took. */
  ms: number;
}

/** Keeps one admin connection per db host; a failed one is dropped and opened again at the next sample. */
class DbProbe {
  private conn: Connection | undefined;
  constructor(private readonly connect: MysqlConnector, private readonly host: string, private readonly timeoutMs: number) {}

  async sample(): Promise<DbSample | null> {
    try {
      if (!this.conn) this.conn = await connectWithin(() => this.connect(this.host), this.timeoutMs, `connect ${this.host}`);
      const c = this.conn;
      const [[v]] = await within(c.query<RowDataPacket[]>('SELECT @@read_only AS ro'), this.timeoutMs, this.host);
      const [slave] = await within(c.query<RowDataPacket[]>('SHOW SLAVE STATUS'), this.timeoutMs, this.host);
      let lagMs: number | null = null;
      const [hb] = await within(c.query<RowDataPacket[]>('SELECT TIMESTAMPDIFF(MICROSECOND, ts, NOW(6)) AS us FROM gameday.heartbeat WHERE id = 1'), this.timeoutMs, this.host).catch(() => [[]] as unknown as [RowDataPacket[]]);
      if (hb[0]) lagMs = Math.max(0, Number(hb[0].us) / 1000);
      const s = slave[0];
      return { readOnly: Boolean(Number(v.ro)), replicating: Boolean(s), ioRunning: s?.Slave_IO_Running === 'Yes', sqlRunning: s?.Slave_SQL_Running === 'Yes', lagMs };
    } catch {
      this.conn?.destroy();
      this.conn = undefined;
      return null;
    }
  }

  close(): void {
    this.conn?.destroy();
    this.conn = undefined;
  }
}

async function proxyView(endpoint: RuntimeEndpoint, timeoutMs: number): Promise<Record<string, string> | null> {
  try {
    const servers = await within(showServers(endpoint), timeoutMs, 'haproxy');
    return Object.fromEntries(servers.map((s) => [`${s.backend}/${s.server}`, s.status]));
  } catch {
    return null;
  }
}

/**
 * Samples the fleet every `intervalMs` until stopped: HAProxy server states
 * on every proxy (runtime API) and read_only, replication threads and
 * heartbeat lag on every db host. Each look has its own timeout, so a dark
 * host costs one timeout per sample, never a stalled sampler.
 */
export function startFleetSampler(inv: Inventory, access: ProbeAccess, intervalMs = 500): { samples: FleetSample[]; latest(): FleetSample | undefined; stop(): Promise<FleetSample[]> } {
  const proxies = inv.hosts.filter((h) => inv.pools.some((p) => p.proxies.includes(h.name)));
  const dbHosts = inv.hosts.filter((h) => 'mysql' in h.services);
  const timeoutMs = Math.max(100, Math.floor(intervalMs * 0.8));
  const dbProbes = dbHosts.map((h) => [h.name, new DbProbe(access.mysql, h.name, timeoutMs)] as const);
  const sentinels = access.sentinels?.endpoints ?? [];
  const hostAt = (address: string, port: number) => inv.hosts.find((h) => h.address === address && Object.values(h.services).includes(port))?.name;
  const samples: FleetSample[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const [views, dbs, named] = await Promise.all([
        Promise.all(proxies.map((p) => proxyView(access.haproxyEndpoint(p), timeoutMs))),
        Promise.all(dbProbes.map(([, probe]) => probe.sample())),
        Promise.all(sentinels.map((e) => within(sentinelPrimary(e, access.sentinels!.masterName), timeoutMs, e.name).catch(() => null))),
      ]);
      samples.push({
        at,
        proxies: Object.fromEntries(proxies.map((p, i) => [p.name, views[i]])),
        db: Object.fromEntries(dbProbes.map(([name], i) => [name, dbs[i]])),
        sentinels: Object.fromEntries(sentinels.map((e, i) => [e.name, named[i] ? (hostAt(named[i]!.host, named[i]!.port) ?? `${named[i]!.host}:${named[i]!.port}`) : null])),
        ms: Date.now() - at,
      });
      await sleep(Math.max(0, intervalMs - (Date.now() - at)));
    }
  })();
  return {
    samples,
    latest: () => samples[samples.length - 1],
    async stop() {
      running = false;
      await loop;
      for (const [, probe] of dbProbes) probe.close();
      return samples;
    },
  };
}

/** True when HAProxy sends traffic to the server in this state ("UP", "UP 1/2" going down, "NOLB" not). */
export function takesTraffic(status: string | undefined): boolean {
  return status !== undefined && (status === 'UP' || status.startsWith('UP ') || status === 'no check');
}
