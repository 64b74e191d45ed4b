import { clusterOf, hostsOfKind, replicationClusters, type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { PowerDriver } from '../../drivers/power/types.js';
import type { RuntimeEndpoint } from '../../drivers/haproxy/runtime.js';
import type { Connection } from 'mysql2/promise';
import type { MysqlConnector } from '../../drivers/mysql/readiness.js';
import type { PoolListWriter } from '../../drivers/mysql/bufferPool.js';
import type { RedisEndpoint } from '../../drivers/redis/readiness.js';
import type { RebootLedger } from '../planning/rebootLedger.js';

/**
 * The drivers a fleet runbook needs, for one inventory. The CLI builds it
 * (for the lab: cli/wiring/labFleetEnv.ts) and passes it as the run environment.
 */
export interface FleetEnv {
  power(host: Host): PowerDriver;
  /** Where each proxy's HAProxy runtime API listens. */
  haproxyEndpoint(proxy: Host): RuntimeEndpoint;
  /** Admin connections to db hosts. */
  mysql: MysqlConnector;
  /** The user replicas connect with (needed to repoint them at a switchover): the fleet's default. */
  replication: { user: string; password: string };
  /** The Sentinel master name of Redis clusters that do not name their own. */
  sentinelMasterName: string;
  /** requirepass of the Redis servers, and of the Sentinels, when they have one: the fleet's defaults. */
  redisPassword?: string;
  sentinelPassword?: string;
  /** Per host, where its tier names its own logins (an inventory with several clusters); else the defaults above. */
  replicationOf?(host: Host): { user: string; password: string } | undefined;
  redisPasswordOf?(host: Host): string | undefined;
  sentinelPasswordOf?(host: Host): string | undefined;
  /**
   * Writes the page list InnoDB's buffer-pool loader reads on a db host (the
   * warm-up from a peer needs it); without it the warm-up can only scan.
   */
  bufferPoolList?(host: Host): PoolListWriter;
  /** When gameday last rebooted each host (the state folder's reboots.json), for uptimes that cannot see a reboot. */
  reboots?: RebootLedger;
  /** Bearer token of the app's PUT /monitor/l7check, when the fleet has one. */
  l7checkToken?: string;
  /** A client connection through a proxy's MariaDB frontend (mysql-write or mysql-read), as the app connects: the game days' read-marker probe. */
  mysqlThroughProxy?(proxy: Host, service: 'mysql-write' | 'mysql-read'): Promise<Connection>;
  /** Throws when this host must not be contacted (the lab's hosts while no lab is up); asked before each endpoint is handed out. */
  reachable?(host: Host): void;
}

export function fleet(env: Record<string, unknown>): FleetEnv {
  const f = env.fleet as FleetEnv | undefined;
  if (!f) throw new GamedayError('NO_FLEET_ENV', 'this runbook needs the fleet drivers, and none were given', 'environment', 'run it through "gameday runbook run"');
  return f;
}

/** A server's place in the load balancers: one per pool that lists it. */
export interface Membership {
  pool: string;
  backend: string;
  proxies: Host[];
}

/** Hosts by name, once per inventory (a plan of 10,000 hosts asks for memberships 10,000 times). */
const hostsByName = new WeakMap<Inventory, Map<string, Host>>();

export function membershipsOf(inv: Inventory, hostName: string): Membership[] {
  let byName = hostsByName.get(inv);
  if (!byName) {
    byName = new Map(inv.hosts.map((h) => [h.name, h]));
    hostsByName.set(inv, byName);
  }
  return inv.pools
    .filter((p) => p.servers.includes(hostName))
    .map((p) => ({ pool: p.name, backend: p.backend ?? p.name, proxies: p.proxies.map((n) => byName.get(n)!) }));
}

export function hostByName(inv: Inventory, name: string): Host {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h) {
    throw new GamedayError('UNKNOWN_HOST', `"${name}" is not a host of inventory ${inv.name}`, name, `hosts: ${inv.hosts.map((x) => x.name).join(', ')}`);
  }
  return h;
}

/** How to reach one Redis server of the fleet (address, port, password). */
export function redisEndpoint(f: FleetEnv, host: Host): RedisEndpoint {
  f.reachable?.(host);
  return { host: host.address, port: host.services.redis, password: f.redisPasswordOf?.(host) ?? f.redisPassword };
}

/** How to reach one Sentinel. */
export function sentinelEndpoint(f: FleetEnv, host: Host): RedisEndpoint {
  f.reachable?.(host);
  return { host: host.address, port: host.services.sentinel, password: f.sentinelPasswordOf?.(host) ?? f.sentinelPassword };
}

/** The Sentinels that watch a Redis host's cluster; without a host, every Sentinel of the inventory. */
export function sentinelEndpoints(f: FleetEnv, inv: Inventory, redisHost?: Host): RedisEndpoint[] {
  const sentinels = redisHost ? (clusterOf(inv, redisHost)?.sentinels ?? []) : hostsOfKind(inv, 'sentinel');
  return sentinels.map((h) => sentinelEndpoint(f, h));
}

/** The name the Sentinels monitor a Redis host's cluster by. */
export function sentinelMasterOf(f: FleetEnv, inv: Inventory, redisHost: Host): string {
  return clusterOf(inv, redisHost)?.sentinelMaster ?? f.sentinelMasterName;
}

/** The master names a Sentinel host watches: one per Redis cluster it is a Sentinel of. */
export function mastersWatchedBy(f: FleetEnv, inv: Inventory, sentinel: Host): string[] {
  const names = replicationClusters(inv)
    .filter((c) => c.kind === 'redis' && c.sentinels.some((s) => s.name === sentinel.name))
    .map((c) => c.sentinelMaster ?? f.sentinelMasterName);
  return names.length ? [...new Set(names)] : [f.sentinelMasterName];
}

/** The login a MariaDB host's replicas replicate with. */
export function replicationLoginOf(f: FleetEnv, host: Host): { user: string; password: string } {
  return f.replicationOf?.(host) ?? f.replication;
}

/** The default notification Redis: the first Redis cluster of the inventory (the lab has one). */
export function notificationRedisHost(inv: Inventory): Host | undefined {
  return replicationClusters(inv).find((c) => c.kind === 'redis')?.hosts[0];
}

/** The Sentinel master name of the notification Redis. */
export function notificationMasterOf(f: FleetEnv, inv: Inventory): string {
  const host = notificationRedisHost(inv);
  return host ? sentinelMasterOf(f, inv, host) : f.sentinelMasterName;
}

/** Where a host is reached now: its inventory address, or its instance's for an Auto Scaling slot (resolved by its power driver). */
export async function reachableAddress(f: FleetEnv, host: Host): Promise<string> {
  return (await f.power(host).reachableAddress?.(host)) ?? host.address;
}
