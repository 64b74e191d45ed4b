import { GamedayError, hostsOfKind, type Host, type Inventory } from '../topology/index.js';
import type { PowerDriver } from '../drivers/power/types.js';
import type { RuntimeEndpoint } from '../drivers/haproxy/runtime.js';
import type { MysqlConnector } from '../drivers/mysql/readiness.js';
import type { PoolListWriter } from '../drivers/mysql/bufferPool.js';
import type { RedisEndpoint } from '../drivers/redis/readiness.js';

/**
 * The drivers a fleet runbook needs, for one inventory. The CLI builds it
 * (for the lab: lab/fleetEnv.ts) and passes it as the run environment.
 */
export interface FleetEnv {
  power(host: Host): PowerDriver;
  /** Where each proxy's HAProxy runtime API listens. */
  haproxyEndpoint(proxy: Host): RuntimeEndpoint;
  /** Admin connections to db hosts. */
  mysql: MysqlConnector;
  /** The user replicas connect with (needed to repoint them at a switchover). */
  replication: { user: string; password: string };
  sentinelMasterName: string;
  /** requirepass of the Redis servers, and of the Sentinels, when they have one. */
  redisPassword?: string;
  sentinelPassword?: string;
  /**
   * Writes the page list InnoDB's buffer-pool loader reads on a db host (the
   * warm-up from a peer needs it); without it the warm-up can only scan.
   */
  bufferPoolList?(host: Host): PoolListWriter;
  /** Bearer token of the app's PUT /monitor/l7check, when the fleet has one. */
  l7checkToken?: string;
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
  return { host: host.address, port: host.services.redis, password: f.redisPassword };
}

/** How to reach one Sentinel. */
export function sentinelEndpoint(f: FleetEnv, host: Host): RedisEndpoint {
  return { host: host.address, port: host.services.sentinel, password: f.sentinelPassword };
}

/** Every Sentinel of the inventory. */
export function sentinelEndpoints(f: FleetEnv, inv: Inventory): RedisEndpoint[] {
  return hostsOfKind(inv, 'sentinel').map((h) => sentinelEndpoint(f, h));
}
