import type { Redis } from 'ioredis';
import { mysqlReadiness, withConnection } from '../drivers/mysql/readiness.js';
import { withRedis } from '../drivers/redis/readiness.js';
import type { Host, Inventory } from '../topology/index.js';
import { showServers, type ServerView } from '../drivers/haproxy/runtime.js';
import type { LabContext } from './context.js';
import { SENTINEL_MASTER_NAME, type LabLayout } from './layout.js';
import type { DiskModel } from './diskModels.js';
import { haproxyPaths } from './configs/haproxy.js';
import { isRunning } from './supervisor.js';
import { rootConnection } from './bootstrap.js';
import type { RedisWriteStats } from './app/redisWriter.js';

export type PowerState = 'up' | 'down' | 'degraded' | 'powered-off';

export interface HostLiveState {
  state: PowerState;
  /** Role as the server itself reports it now (db, redis). */
  role?: 'primary' | 'replica' | 'unknown';
  processes: Record<string, { pid: number; running: boolean }>;
  /** An app instance's Redis writes since it started: applied, retried, queued for repair, repaired, pending. */
  redisWrites?: RedisWriteStats;
}

/** `lab status --json`: the inventory (the format in README, "The inventory") plus what is live now. */
export interface LabStatus extends Inventory {
  live: {
    dir: string;
    /** The layout the lab was brought up with (lab/layout.ts LAB_LAYOUTS). */
    layout: LabLayout;
    /** The db hosts' disk model (lab/disk.ts). */
    disk: DiskModel;
    hosts: Record<string, HostLiveState>;
    /** Which Redis host each live Sentinel names as primary. */
    sentinel: Record<string, string | null>;
    /** Each live proxy's view of every pool server: status and weight. */
    haproxy: Record<string, ServerView[]>;
  };
}

async function dbRole(lab: LabContext, host: string): Promise<'primary' | 'replica' | 'unknown'> {
  try {
    const r = await withConnection((h) => rootConnection(lab, lab.host(h)), host, mysqlReadiness);
    return r.replicating || r.readOnly ? 'replica' : 'primary';
  } catch {
    return 'unknown';
  }
}

/** Asks one Redis or Sentinel; undefined when it does not answer. */
function redisAsk<T>(lab: LabContext, host: Host, ask: (r: Redis) => Promise<T>): Promise<T | undefined> {
  return withRedis(lab.redisEndpoint(host), ask).catch(() => undefined);
}

async function appRedisWrites(address: string, port: number): Promise<RedisWriteStats | undefined> {
  try {
    const res = await fetch(`http://${address}:${port}/monitor/stats`, { signal: AbortSignal.timeout(1000) });
    return ((await res.json()) as { redisWrites?: RedisWriteStats }).redisWrites;
  } catch {
    return undefined;
  }
}

export async function labStatus(lab: LabContext): Promise<LabStatus> {
  const hosts: Record<string, HostLiveState> = {};
  await Promise.all(
    lab.inventory.hosts.map(async (h) => {
      const ids = Object.keys(lab.state.processes).filter((id) => id.startsWith(`${h.name}/`));
      const processes = Object.fromEntries(ids.map((id) => [id.split('/')[1], { pid: lab.state.processes[id].pid, running: isRunning(lab, id) }]));
      const running = Object.values(processes).filter((p) => p.running).length;
      const state: PowerState = lab.state.poweredOff.includes(h.name) ? 'powered-off'
        : running === 0 ? 'down' : running < ids.length ? 'degraded' : 'up';
      const live: HostLiveState = { state, processes };
      if (state !== 'powered-off' && h.tier === 'db') live.role = await dbRole(lab, h.name);
      if (state !== 'powered-off' && h.tier === 'redis') {
        const role = await redisAsk(lab, h, (r) => r.role());
        live.role = role ? (role[0] === 'master' ? 'primary' : 'replica') : 'unknown';
      }
      if (state === 'up' && h.tier === 'app') live.redisWrites = await appRedisWrites(h.address, h.services.http);
      hosts[h.name] = live;
    }),
  );

  const byAddress = new Map(lab.inventory.hosts.map((h) => [`${h.address}:${h.services.redis}`, h.name]));
  const sentinel: Record<string, string | null> = {};
  for (const s of lab.hostsOf('sentinel')) {
    if (hosts[s.name].state === 'powered-off') continue;
    const addr = await redisAsk(lab, s, (r) => r.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_MASTER_NAME) as Promise<string[] | null>);
    sentinel[s.name] = addr ? (byAddress.get(`${addr[0]}:${addr[1]}`) ?? `${addr[0]}:${addr[1]}`) : null;
  }

  const haproxy: Record<string, ServerView[]> = {};
  for (const p of lab.hostsOf('proxy')) {
    if (hosts[p.name].state === 'powered-off') continue;
    haproxy[p.name] = await showServers(haproxyPaths(lab, p).socket).catch(() => []);
  }
  return { ...lab.inventory, live: { dir: lab.dir, layout: lab.layout, disk: lab.state.disk, hosts, sentinel, haproxy } };
}
