import type { Connection } from 'mysql2/promise';
import { hostsOfKind, kindOf, type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { setServerState, showServers, type ServerView } from '../../drivers/haproxy/runtime.js';
import { ioConnected, replicationView, type ReplicationView } from '../../drivers/mysql/failover.js';
import { hostByName, membershipsOf, type FleetEnv } from './fleet.js';

/**
 * What failover-db and rejoin-db share: which hosts and pools are the
 * database's, who the primary is, whether it is really lost, and the fence.
 * MariaDB hosts are those of tiers of kind mariadb (topology/kinds.ts).
 */

export function dbHosts(inv: Inventory): Host[] {
  return hostsOfKind(inv, 'mariadb');
}

export interface WritePool {
  pool: string;
  backend: string;
  proxies: Host[];
}

/**
 * The write pools: pools whose servers are all db hosts and whose name or
 * backend name says "write" (the lab's db-write/db_write, the fixtures'
 * db-write). Their health check passes only on the writable primary.
 */
export function writePools(inv: Inventory): WritePool[] {
  const db = new Set(dbHosts(inv).map((h) => h.name));
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  return inv.pools
    .filter((p) => p.servers.length > 0 && p.servers.every((s) => db.has(s)) && /write/i.test(`${p.name} ${p.backend ?? ''}`))
    .map((p) => ({ pool: p.name, backend: p.backend ?? p.name, proxies: p.proxies.map((n) => byName.get(n)!) }));
}

/** The write pools that list the host among their servers, with their proxies. */
export function writePoolsOf(inv: Inventory, host: string): WritePool[] {
  return writePools(inv).filter((p) => inv.pools.find((x) => x.name === p.pool)!.servers.includes(host));
}

/** The db host a replica's Master_Host/Master_Port names. */
export function dbHostAt(inv: Inventory, address: string, port: number): Host | undefined {
  return dbHosts(inv).find((h) => h.address === address && (h.services.mysql ?? 3306) === port);
}

export function mysqlAddress(h: Host): { host: string; port: number } {
  return { host: h.address, port: h.services.mysql ?? 3306 };
}

/** A connection, or the reason there is none, within `ms` (a blackholed host never answers a connect). */
export async function tryConnect(f: FleetEnv, host: string, ms = 3000): Promise<Connection | Error> {
  const pending = f.mysql(host);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`no answer in ${ms} ms`)), ms);
  });
  const outcome = await Promise.race([pending.then((c) => c as Connection | Error, (e: Error) => e), timeout]);
  clearTimeout(timer);
  // A connect that answers after the timeout must not keep the process alive.
  if (outcome instanceof Error) pending.then((c) => c.destroy(), () => undefined);
  return outcome;
}

/** Runs `fn` on a connection to the host; an Error (not a throw) when the host does not answer. */
export async function onHost<T>(f: FleetEnv, host: string, fn: (c: Connection) => Promise<T>, ms = 3000): Promise<T | Error> {
  const conn = await tryConnect(f, host, ms);
  if (conn instanceof Error) return conn;
  try {
    return await fn(conn);
  } catch (err) {
    return err as Error;
  } finally {
    await conn.end().catch(() => conn.destroy());
  }
}

export function viewOf(f: FleetEnv, host: string): Promise<ReplicationView | Error> {
  return onHost(f, host, replicationView);
}

/** db hosts that answer writable and replicate from no one: primaries. */
export async function writablePrimaries(f: FleetEnv, inv: Inventory, except: string[] = []): Promise<string[]> {
  const found: string[] = [];
  for (const h of dbHosts(inv).filter((x) => !except.includes(x.name))) {
    const v = await viewOf(f, h.name);
    if (!(v instanceof Error) && !v.readOnly && !v.replica) found.push(h.name);
  }
  return found;
}

/**
 * The primary as the replicas see it: the host their Master_Host names.
 * (The inventory's role is where the fleet began; switchovers move it.)
 */
export async function primaryOfReplicas(f: FleetEnv, inv: Inventory): Promise<{ primary?: string; detail: string }> {
  const seen = new Map<string, string[]>();
  for (const h of dbHosts(inv)) {
    const v = await viewOf(f, h.name);
    if (v instanceof Error || !v.replica) continue;
    const source = dbHostAt(inv, v.replica.masterHost, v.replica.masterPort)?.name ?? `${v.replica.masterHost}:${v.replica.masterPort}`;
    seen.set(source, [...(seen.get(source) ?? []), h.name]);
  }
  const detail = [...seen].map(([src, reps]) => `${reps.join(', ')} replicate from ${src}`).join('; ') || 'no db host answers as a replica';
  return { primary: seen.size === 1 ? [...seen.keys()][0] : undefined, detail };
}

/** One vantage point's view of the primary. */
export interface Vantage {
  kind: 'direct' | 'proxy' | 'replica';
  from: string;
  opinion: 'lost' | 'alive' | 'unknown';
  detail: string;
  /** Direct connects only: it answered writable. */
  writable?: boolean;
}

/** What the vantage points say, together. */
export interface LossVerdict {
  state: 'lost' | 'alive-writable' | 'alive-read-only' | 'unconfirmed';
  summary: string;
}

/**
 * The primary is lost when at least two kinds of vantage point (a direct
 * connect from here, the proxies' health checks, the replicas' IO threads)
 * say so and none sees it alive. A kind with no answer at all (both proxies
 * gone with the rack) counts for nothing either way. A connected IO thread
 * is no answer (observePrimary): a replica learns of a dark primary only
 * after slave_net_timeout, so replicas confirm a loss but never deny one;
 * a proxy whose check passes, or a direct connect that works, does. Pure.
 */
export function lossVerdict(primary: string, vantages: readonly Vantage[]): LossVerdict {
  const summary = vantages.map((v) => `${v.from}: ${v.detail}`).join('; ');
  const direct = vantages.find((v) => v.kind === 'direct');
  if (direct?.opinion === 'alive') return { state: direct.writable ? 'alive-writable' : 'alive-read-only', summary };
  const alive = vantages.filter((v) => v.opinion === 'alive');
  if (alive.length > 0) return { state: 'unconfirmed', summary: `${alive.map((v) => v.from).join(', ')} still see ${primary} alive; ${summary}` };
  const lostKinds = new Set(vantages.filter((v) => v.opinion === 'lost').map((v) => v.kind));
  if (lostKinds.size >= 2) return { state: 'lost', summary };
  return { state: 'unconfirmed', summary: `only ${lostKinds.size} kind(s) of vantage point see ${primary} lost (2 needed); ${summary}` };
}

/** How HAProxy's `show stat` status reads for a primary's health: UP, DOWN, or nothing known (MAINT: no checks run). */
function proxyOpinion(status: string | undefined): Vantage['opinion'] {
  if (!status) return 'unknown';
  if (/^(UP|DRAIN|NOLB)/.test(status)) return 'alive';
  if (/^DOWN/.test(status)) return 'lost';
  return 'unknown';
}

/** Asks every vantage point about the primary, once. */
export async function observePrimary(f: FleetEnv, inv: Inventory, primary: Host): Promise<Vantage[]> {
  const vantages: Vantage[] = [];
  const direct = await viewOf(f, primary.name);
  vantages.push(
    direct instanceof Error
      ? { kind: 'direct', from: 'direct connect', opinion: 'lost', detail: `no connection: ${direct.message}` }
      : { kind: 'direct', from: 'direct connect', opinion: 'alive', writable: !direct.readOnly, detail: direct.readOnly ? 'answers, read-only' : 'answers, writable' },
  );
  for (const pool of writePoolsOf(inv, primary.name)) {
    for (const proxy of pool.proxies) {
      const views = await showServers(f.haproxyEndpoint(proxy)).catch((e: Error) => e);
      if (views instanceof Error) {
        vantages.push({ kind: 'proxy', from: proxy.name, opinion: 'unknown', detail: `runtime API does not answer (${views.message})` });
        continue;
      }
      const status = views.find((v) => v.backend === pool.backend && v.server === primary.name)?.status;
      vantages.push({ kind: 'proxy', from: proxy.name, opinion: proxyOpinion(status), detail: `${pool.backend}/${primary.name} ${status ?? 'absent'}` });
    }
  }
  for (const h of dbHosts(inv).filter((x) => x.name !== primary.name)) {
    const v = await viewOf(f, h.name);
    if (v instanceof Error || !v.replica || dbHostAt(inv, v.replica.masterHost, v.replica.masterPort)?.name !== primary.name) continue;
    const r = v.replica;
    // A replica notices a dark primary (no FIN, no RST) only after slave_net_timeout: "connected" proves nothing yet.
    vantages.push({
      kind: 'replica',
      from: h.name,
      opinion: ioConnected(r) ? 'unknown' : 'lost',
      detail: ioConnected(r) ? 'IO thread Yes (a dark primary shows only after slave_net_timeout)' : `IO thread ${r.io}${r.lastIoError ? ` (${r.lastIoError.slice(0, 120)})` : ''}`,
    });
  }
  return vantages;
}

/** Where a host was fenced ("proxy-1/db_write"), and where the proxy did not answer (with the reason). */
export interface FenceResult {
  fenced: string[];
  unreachable: string[];
  /** The proxies that did not answer, by name (each once). */
  unansweredProxies?: string[];
}

/**
 * Fences a host: maint in every pool of every proxy, so that no traffic
 * reaches it and no health check puts it back when it answers again. A proxy
 * that does not answer is listed: it has no runtime state to set now, and
 * must be fenced when it is back.
 */
export async function fenceEverywhere(f: FleetEnv, inv: Inventory, host: string): Promise<FenceResult> {
  const fenced: string[] = [];
  const unreachable: string[] = [];
  const unanswered = new Set<string>();
  for (const m of membershipsOf(inv, host)) {
    for (const proxy of m.proxies) {
      try {
        await setServerState(f.haproxyEndpoint(proxy), m.backend, host, 'maint');
        fenced.push(`${proxy.name}/${m.backend}`);
      } catch (err) {
        unreachable.push(`${proxy.name}/${m.backend} (${(err as Error).message})`);
        unanswered.add(proxy.name);
      }
    }
  }
  return { fenced, unreachable, unansweredProxies: [...unanswered] };
}

/** How the paths to a lost primary that its proxies could not close were closed: proxies known to be off, or the primary itself powered off. */
export interface FenceProof {
  /** Proxies that did not answer and whose power system says they are off. */
  proxiesOff: string[];
  /** The old primary was powered off (STONITH) because some proxy could not be proved off. */
  poweredOff: boolean;
}

/**
 * Silence is not a fence: a proxy that did not answer may still route to the
 * old primary (a partition between gameday and that proxy only). Each one
 * must be known off from its power system; otherwise the old primary itself
 * is powered off through its power driver and confirmed off. When neither
 * can be done, FENCE_UNPROVEN: the failover must not promote.
 */
export async function proveFenced(f: FleetEnv, inv: Inventory, old: string, r: FenceResult): Promise<FenceProof> {
  const proxiesOff: string[] = [];
  const unproven: string[] = [];
  for (const name of r.unansweredProxies ?? []) {
    const proxy = hostByName(inv, name);
    const state = await f.power(proxy).powerState?.(proxy).catch(() => undefined);
    if (state === 'off') proxiesOff.push(name);
    else unproven.push(`${name} (${state === 'on' ? 'has power' : 'its power state is unknown'})`);
  }
  if (unproven.length === 0) return { proxiesOff, poweredOff: false };
  const host = hostByName(inv, old);
  const power = f.power(host);
  const why = `${unproven.join(', ')} did not answer and may still send writes to ${old}`;
  if (!power.powerOff || !power.powerState) {
    throw new GamedayError(
      'FENCE_UNPROVEN',
      `${why}, and ${old}'s power driver (${power.kind}) cannot cut its power: not promoting (two primaries would lose writes)`,
      `host ${old}`,
      `fence ${old} there by hand (HAProxy: set server <backend>/${old} state maint) or cut its power, then resume the run`,
    );
  }
  await power.powerOff(host);
  if ((await power.powerState(host)) !== 'off') {
    throw new GamedayError('FENCE_UNPROVEN', `${why}; ${old} was powered off but its power system does not say it is off: not promoting`, `host ${old}`, `check ${old}'s power, then resume the run`);
  }
  return { proxiesOff, poweredOff: true };
}

export function requireDbHost(inv: Inventory, name: string, flag: string): Host {
  const h = inv.hosts.find((x) => x.name === name);
  if (!h || kindOf(inv, h) !== 'mariadb') {
    throw new GamedayError('NOT_A_DB_HOST', `"${name}" is not a db host of inventory ${inv.name}`, flag, `db hosts: ${dbHosts(inv).map((x) => x.name).join(', ')}`);
  }
  return h;
}

/** Why one proxy's write pool (`where`) does not send the writes to the new primary alone: it is not UP with a passing check, or another server is UP beside it. */
export function followProblems(views: ServerView[], where: string, backend: string, newPrimary: string): string[] {
  const problems: string[] = [];
  const mine = views.find((v) => v.backend === backend && v.server === newPrimary);
  if (mine?.status !== 'UP' || !mine.checkStatus.includes('L7OK')) problems.push(`${where}: ${newPrimary} ${mine?.status ?? 'absent'} (${mine?.checkStatus ?? '-'})`);
  const intruders = views.filter((v) => v.backend === backend && v.server !== newPrimary && v.status.startsWith('UP'));
  if (intruders.length) problems.push(`${where}: also UP ${intruders.map((v) => v.server).join(', ')}`);
  return problems;
}
