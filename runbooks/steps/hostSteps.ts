import { z } from 'zod';
import { blastRadius, clusterOf, clusterPeers, kindOf, poolTouched, type Host, type Inventory } from '../../topology/index.js';
import { disableFrontend, forceHealthUp, frontendNames, setServerState, showServers, shutdownServerSessions, type ServerAdminState } from '../../drivers/haproxy/runtime.js';
import { mysqlReadiness, withConnection } from '../../drivers/mysql/readiness.js';
import { completeSwitchover, isWritablePrimary, switchover, type SwitchoverCompletion, type SwitchoverTarget } from '../../drivers/mysql/switchover.js';
import { redisReadiness } from '../../drivers/redis/readiness.js';
import { redisHandOff } from '../../drivers/redis/handoff.js';
import type { ActionStep, Step, StepContext, WaitForStep } from '../../engine/types.js';
import { fleet, hostByName, membershipsOf, reachableAddress, redisEndpoint, replicationLoginOf, sentinelEndpoints, sentinelMasterOf, type FleetEnv } from './fleet.js';
import { hostReady, openSessions, pause } from './hostGates.js';
import { resultKey, resultOf } from './results.js';

/** Weight steps in percent, rising and ending at 100 ("25,50,100"), validated whole before anything acts. */
export const rampPercents = z.string().transform((text, ctx) => {
  const list = text.split(',').map((x) => (/^\s*\d+\s*$/.test(x) ? Number(x) : NaN));
  const rising = list.every((n, i) => i === 0 || n > list[i - 1]);
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 100) || !rising || list[list.length - 1] !== 100) {
    ctx.addIssue({ code: 'custom', message: `"${text}" must be rising percentages from 1 to 100 ending at 100, e.g. 25,50,100` });
    return z.NEVER;
  }
  return list;
});

/** How a host goes back into service before its weight: ready for several samples, then the warm-up. */
export interface ReturnOptions {
  maxLagMs: number;
  readySamples: number;
  readyTimeoutS: number;
  /** Steps after "ready" and before the weight comes back (the warm-up); the weight itself is the gated ramp (gatedRamp.ts). */
  beforeRamp?: Step[];
}

const envOf = (ctx: Pick<StepContext, 'env'>) => fleet(ctx.env);

/** The blast radius of losing one host, in one line: what each touched tier and pool keeps. */
export function lossSummary(inv: Inventory, hostName: string): string {
  const impact = blastRadius(inv, { kind: 'host', name: hostName, hosts: [hostName] });
  const tiers = impact.tiers.filter((t) => t.lost.length > 0).map((t) => `${t.tier} ${t.leftCount}/${t.total}${t.holds ? '' : ' BREAKS'}${t.notes.length ? ` (${t.notes.join('; ')})` : ''}`);
  const pools = impact.pools.filter((p) => poolTouched(inv, p))
    .map((p) => `pool ${p.pool} ${p.serversLeftCount} srv/${p.proxiesLeftCount} lb${p.holds ? '' : ' BREAKS'}`);
  return [...tiers, ...pools].join(', ') + (impact.holds ? ' - holds' : ' - BREAKS');
}

async function eachPoolServer(f: FleetEnv, inv: Inventory, host: Host, act: (endpoint: ReturnType<FleetEnv['haproxyEndpoint']>, backend: string) => Promise<void>): Promise<number> {
  let n = 0;
  for (const m of membershipsOf(inv, host.name)) {
    for (const proxy of m.proxies) {
      await act(f.haproxyEndpoint(proxy), m.backend);
      n++;
    }
  }
  return n;
}

async function setStateEverywhere(f: FleetEnv, inv: Inventory, host: Host, state: ServerAdminState): Promise<number> {
  return eachPoolServer(f, inv, host, (e, backend) => setServerState(e, backend, host.name, state));
}

/** An app instance's own L7 check in or out of rotation (needs the token); hosts without one are left alone. */
export async function setL7check(f: FleetEnv, inv: Inventory, host: Host, inRotation: boolean): Promise<void> {
  if (host.services.http === undefined || !f.l7checkToken || kindOf(inv, host) === 'haproxy') return;
  const address = await reachableAddress(f, host);
  const res = await fetch(`http://${address}:${host.services.http}/monitor/l7check`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${f.l7checkToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inRotation }),
    signal: AbortSignal.timeout(3000),
  });
  if (res.status !== 200) throw new Error(`${host.name} l7check PUT answered ${res.status}`);
}

/**
 * The pools (on each proxy) where `old` is UP and `candidate` is not: for a
 * primary and its replica, the write pools, whose health checks let only
 * the primary in.
 */
async function poolsServedBy(f: FleetEnv, inv: Inventory, old: Host, candidate: Host) {
  const found: Array<{ endpoint: ReturnType<FleetEnv['haproxyEndpoint']>; backend: string }> = [];
  for (const m of membershipsOf(inv, old.name)) {
    if (!membershipsOf(inv, candidate.name).some((c) => c.backend === m.backend)) continue;
    for (const proxy of m.proxies) {
      const endpoint = f.haproxyEndpoint(proxy);
      const views = await showServers(endpoint);
      const status = (name: string) => views.find((v) => v.backend === m.backend && v.server === name)?.status;
      if (status(old.name) === 'UP' && status(candidate.name) !== 'UP') found.push({ endpoint, backend: m.backend });
    }
  }
  return found;
}

/**
 * What handing a host off means, read from the inventory, or undefined when
 * it has no role to hand off (an app, a Sentinel, a generic host): a MariaDB
 * or Redis host may be its cluster's primary when the step runs, a proxy has
 * clients to move.
 */
export function handOffPlan(inv: Inventory, host: Host): { title: string; consequence: string } | undefined {
  const kind = kindOf(inv, host);
  const cluster = clusterOf(inv, host);
  const peers = clusterPeers(inv, host).map((h) => h.name).join(', ') || '(none)';
  const declared = host.role === 'primary' ? ` (the inventory names it ${cluster?.name ?? host.tier}'s primary)` : '';
  if (kind === 'mariadb') {
    return {
      title: `switch ${cluster?.name ?? host.tier}'s MariaDB primary away from ${host.name} if it is the primary then${declared}`,
      consequence: `GTID switchover to the most caught-up of ${peers}; writes refused for a moment`,
    };
  }
  // ElastiCache has no Sentinels: its power driver fails the group over (TestFailover) before the reboot.
  if (kind === 'redis' && host.power === 'elasticache') return undefined;
  if (kind === 'redis') {
    const master = cluster?.sentinelMaster ? `Sentinel master ${cluster.sentinelMaster}` : 'the default Sentinel master';
    return {
      title: `hand ${cluster?.name ?? host.tier}'s Redis primary (${master}) away from ${host.name} if it is the primary then${declared}`,
      consequence: `writes paused until a replica (${peers}) has them, then Sentinel failover`,
    };
  }
  if (kind === 'haproxy') return { title: `move ${host.name}'s clients to the other proxies`, consequence: 'its frontends stop accepting connections; clients reconnect to the other proxies' };
  return undefined;
}

/** A switchover's phase as the hand-off journals it (a note's `switchover` data): what a resume finishes from. */
interface SwitchoverRecord {
  phase: 'read-only' | 'promoted' | 'done';
  oldPrimary: string;
  newPrimary: string;
  gtid: string;
}

/** The last phase an earlier attempt of this step journaled for a switchover away from `host`, unless it finished. */
function halfDoneSwitchover(ctx: StepContext, host: string): SwitchoverRecord | undefined {
  const records = (ctx.earlierNotes ?? []).map((n) => n.switchover as SwitchoverRecord | undefined).filter((r) => r?.oldPrimary === host);
  const last = records.at(-1);
  return last && last.phase !== 'done' ? last : undefined;
}

/**
 * The MariaDB hand-off: a GTID switchover when the host is the writable
 * primary, each phase journaled. When an earlier attempt stopped half-way
 * (the host read-only, or the new primary already promoted), it finishes
 * that switchover rather than finding "no primary here" and rebooting a
 * host whose replicas and pools were never moved. Undefined: nothing to hand off.
 */
async function handOffMariadb(ctx: StepContext, f: FleetEnv, host: Host, avoid: ReadonlySet<string>): Promise<Record<string, unknown> | undefined> {
  const half = halfDoneSwitchover(ctx, host.name);
  const writable = await isWritablePrimary(f.mysql, host.name);
  if (!writable && !half) return undefined;
  const others = clusterPeers(ctx.inventory, host);
  // A peer that goes down in the same wave would need a second switchover while it is down: never the target.
  const eligible = others.filter((o) => !avoid.has(o.name));
  const targetOf = (candidate: Host): SwitchoverTarget => ({
    oldPrimary: host.name,
    newPrimary: candidate.name,
    otherReplicas: others.filter((o) => o !== candidate).map((o) => o.name),
    newPrimaryAddress: { host: candidate.address, port: candidate.services.mysql },
    replicationUser: replicationLoginOf(f, host),
  });
  const record = async (phase: SwitchoverRecord['phase'], candidate: Host, gtid: string, message: string, data: Record<string, unknown> = {}) =>
    ctx.note(message, { ...data, switchover: { phase, oldPrimary: host.name, newPrimary: candidate.name, gtid } satisfies SwitchoverRecord });

  let candidate: Host;
  let result: SwitchoverCompletion & { writesRefusedMs?: number; gtid: string };
  let writePools: Awaited<ReturnType<typeof poolsServedBy>>;
  const promoted = half && !writable ? await withConnection(f.mysql, half.newPrimary, mysqlReadiness).then((r) => !r.readOnly && !r.replicating).catch(() => false) : false;
  if (half && promoted) {
    // An earlier attempt promoted the new primary and stopped: finish its steps 3 and 4 from the position it journaled.
    candidate = hostByName(ctx.inventory, half.newPrimary);
    await ctx.note(`resuming the switchover from ${host.name} to ${candidate.name} that an earlier attempt left after the promotion`);
    writePools = await poolsServedBy(f, ctx.inventory, host, candidate);
    result = { gtid: half.gtid, ...(await completeSwitchover(f.mysql, targetOf(candidate), half.gtid)) };
  } else {
    // Fresh, or an earlier attempt left the host read-only before any promotion: switch over (again); read_only on a read-only server changes nothing.
    const ranked = [];
    for (const o of eligible) {
      const r = await withConnection(f.mysql, o.name, mysqlReadiness).catch(() => undefined);
      if (r?.ioRunning && r.sqlRunning && r.readOnly) ranked.push({ host: o, lag: r.heartbeatLagMs ?? (r.secondsBehindMaster ?? 1e9) * 1000 });
    }
    ranked.sort((a, b) => a.lag - b.lag);
    const best = ranked[0]?.host;
    const skipped = avoid.size && eligible.length < others.length ? ` outside this wave (${others.filter((o) => avoid.has(o.name)).map((o) => o.name).join(', ')} go down in it too)` : '';
    if (!best) throw new Error(`no replica of ${host.name}${skipped} replicates: cannot switch over${writable ? '' : ` (${host.name} is left read-only by an earlier attempt: make it writable again, SET GLOBAL read_only = OFF, if no other server is)`}`);
    candidate = best;
    if (half) await ctx.note(`an earlier attempt left ${host.name} read-only at ${half.gtid} before promoting ${half.newPrimary}: switching over again`);
    writePools = await poolsServedBy(f, ctx.inventory, host, candidate);
    result = await switchover(f.mysql, targetOf(candidate), 30, {
      readOnly: (gtid) => record('read-only', candidate, gtid, `${host.name} refuses writes at ${gtid}; promoting ${candidate.name}`),
      promoted: (gtid) => record('promoted', candidate, gtid, `${candidate.name} takes writes`),
    });
  }
  // Repoint the write pools now rather than after the health checks' rise and fall.
  for (const { endpoint, backend } of writePools) {
    await forceHealthUp(endpoint, backend, candidate.name);
    await setServerState(endpoint, backend, host.name, 'drain');
  }
  const behind = result.replicasBehind.length ? `; behind when repointed: ${result.replicasBehind.join(', ')}` : '';
  const stuck = result.replicasNotRepointed.length ? `; LEFT DEGRADED: ${result.replicasNotRepointed.map((r) => `${r.host} still follows ${host.name} (${r.error})`).join(', ')}` : '';
  const refused = result.writesRefusedMs === undefined ? '' : `; writes refused for ${result.writesRefusedMs} ms`;
  await record('done', candidate, result.gtid, `switched the MariaDB primary from ${host.name} to ${candidate.name}${refused}${behind}${stuck}`, { newPrimary: candidate.name, ...result });
  if (result.oldPrimaryNotRejoined) {
    const why = `${result.oldPrimaryNotRejoined}; not rebooted`;
    await ctx.note(why, { degraded: `${host.name}: ${result.oldPrimaryNotRejoined}`, host: host.name });
    throw new Error(`${why}: compare its binlog past ${result.gtid} with ${candidate.name} (mariadb-binlog), replay what must be kept, then "gameday runbook run rejoin-db --host ${host.name}"`);
  }
  return { handedOff: 'db-primary', newPrimary: candidate.name, writesRefusedMs: result.writesRefusedMs };
}

/** The hand-off step of a host, or none when it has no role to hand off (see handOffPlan). */
export function handOffSteps(inv: Inventory, id: string, hostName: string): ActionStep[] {
  const plan = handOffPlan(inv, hostByName(inv, hostName));
  return plan ? [handOffStep(id, hostName, plan.title)] : [];
}

/**
 * Makes the host safe to take down. A db primary is switched over to its
 * most caught-up replica of its cluster; a Redis primary is failed over by its
 * cluster's Sentinels; a proxy stops accepting connections so its clients
 * move to the other proxy. Runs at execution time against the live roles, so
 * it is idempotent.
 */
export function handOffStep(id: string, hostName: string, title = `hand off ${hostName}'s role if it has one`, opts: { avoid?: readonly string[] } = {}): ActionStep {
  const avoid = new Set(opts.avoid ?? []);
  return {
    id,
    kind: 'action',
    semantics: 'idempotent',
    title,
    locks: [`host:${hostName}`],
    describe: (ctx) => {
      const plan = handOffPlan(ctx.inventory, hostByName(ctx.inventory, hostName));
      return plan ? { target: hostName, consequence: plan.consequence } : { target: hostName, consequence: 'nothing to hand off' };
    },
    async run(ctx) {
      const f = envOf(ctx);
      const host = hostByName(ctx.inventory, hostName);
      const kind = kindOf(ctx.inventory, host);
      if (kind === 'mariadb') {
        const handedOff = await handOffMariadb(ctx, f, host, avoid);
        if (handedOff) return handedOff;
      }
      if (kind === 'redis' && (await redisReadiness(redisEndpoint(f, host))).role === 'master') {
        const r = await redisHandOff({ oldPrimary: redisEndpoint(f, host), sentinels: sentinelEndpoints(f, ctx.inventory, host), masterName: sentinelMasterOf(f, ctx.inventory, host) });
        const newPrimary = ctx.inventory.hosts.find((h) => h.address === r.newPrimary.host && h.services.redis === r.newPrimary.port)?.name ?? `${r.newPrimary.host}:${r.newPrimary.port}`;
        await ctx.note(`handed the Redis primary from ${host.name} to ${newPrimary} at offset ${r.offset}; writes paused ${r.writePauseMs} ms (catch-up ${r.catchUpMs} ms, promotion ${r.promotionMs} ms)`, { ...r, newPrimary });
        return { handedOff: 'redis-primary', newPrimary, writePauseMs: r.writePauseMs };
      }
      if (kind === 'haproxy') {
        const frontends = await frontendNames(f.haproxyEndpoint(host));
        for (const fe of frontends) await disableFrontend(f.haproxyEndpoint(host), fe);
        return { handedOff: 'proxy', disabledFrontends: frontends };
      }
      return { handedOff: null };
    },
  };
}

/** Drain: no new traffic (HAProxy drain on every proxy, app out of rotation), then wait for sessions to end. */
export function drainStep(id: string, hostName: string, drainTimeoutS: number): ActionStep {
  return {
    id,
    kind: 'action',
    semantics: 'idempotent',
    title: `drain ${hostName} and wait for its connections to go`,
    locks: [`host:${hostName}`],
    describe: (ctx) => ({
      target: hostName,
      inputs: { pools: membershipsOf(ctx.inventory, hostName).map((m) => m.pool), drainTimeoutS },
      consequence: `${hostName} takes no new traffic`,
    }),
    async run(ctx) {
      const f = envOf(ctx);
      const host = hostByName(ctx.inventory, hostName);
      await setL7check(f, ctx.inventory, host, false);
      const servers = await setStateEverywhere(f, ctx.inventory, host, 'drain');
      // Marked degraded until its weight is back (a host in no pool has nothing to give back).
      if (servers > 0) await ctx.note(`${hostName} drained`, { degraded: `${hostName} is drained`, host: hostName });
      const deadline = Date.now() + drainTimeoutS * 1000;
      let sessions = await openSessions(f, ctx.inventory, host);
      while (sessions > 0 && Date.now() < deadline) {
        await pause(500, ctx.signal);
        sessions = await openSessions(f, ctx.inventory, host);
      }
      // Pooled idle connections (e.g. a MySQL client pool) never leave by themselves: cut them.
      if (sessions > 0) await eachPoolServer(f, ctx.inventory, host, (e, b) => shutdownServerSessions(e, b, host.name));
      return { sessionsCut: sessions };
    },
  };
}

/** <prefix>/reboot hands <prefix>/back the time the reboot was asked for: the host is back once it booted after it. */
interface RebootRequested {
  requestedAt: string;
}

const rebootResult = (prefix: string) => resultKey<RebootRequested>(`${prefix}/reboot`);

/** Reboot and wait until it is back: at most once, so a crash never reboots a host twice. */
export function rebootSteps(prefix: string, hostName: string, rebootTimeoutS: number): Step[] {
  return [
    {
      id: rebootResult(prefix).id,
      kind: 'action',
      semantics: 'at-most-once',
      title: `reboot ${hostName}`,
      locks: [`host:${hostName}`],
      describe: (ctx) => ({ target: hostName, consequence: `while ${hostName} is down: ${lossSummary(ctx.inventory, hostName)}` }),
      async run(ctx): Promise<RebootRequested> {
        const host = hostByName(ctx.inventory, hostName);
        const since = new Date();
        await envOf(ctx).power(host).reboot(host);
        // Recorded in the ledger only once `back` confirms the host booted: a request that never took is no reboot.
        return { requestedAt: since.toISOString() };
      },
    },
    {
      id: `${prefix}/back`,
      kind: 'wait-for',
      title: `wait for ${hostName} to come back`,
      // Held while it is down and coming back: a game day must not take the host meanwhile.
      locks: [`host:${hostName}`],
      what: `${hostName} booted after the reboot and answering on its ports`,
      intervalMs: 1000,
      timeoutMs: rebootTimeoutS * 1000,
      async check(ctx) {
        const host = hostByName(ctx.inventory, hostName);
        const requested = resultOf(ctx, rebootResult(prefix))?.requestedAt;
        const since = requested ? new Date(requested) : new Date(0);
        try {
          await envOf(ctx).power(host).waitUntilBack(host, since, 1500);
          envOf(ctx).reboots?.record(hostName, since);
          return { ok: true, detail: 'back' };
        } catch (err) {
          return { ok: false, detail: (err as Error).message };
        }
      },
    },
  ];
}

/**
 * The way back into service, shared by reboot-stale and recover-host:
 * ready for several samples in a row, then weight given back step by step,
 * each step held and checked. A gate that fails stops the run with the host
 * at the weight it had (never more).
 */
export function returnSteps(prefix: string, hostName: string, o: ReturnOptions): Step[] {
  const steps: Step[] = [
    {
      id: `${prefix}/ready`,
      kind: 'wait-for',
      title: `wait until ${hostName} is ready`,
      locks: [`host:${hostName}`],
      what: `${hostName} ready (${o.readySamples} samples in a row)`,
      intervalMs: 1000,
      timeoutMs: o.readyTimeoutS * 1000,
      consecutive: o.readySamples,
      check: (ctx) => hostReady(envOf(ctx), ctx.inventory, hostByName(ctx.inventory, hostName), o.maxLagMs),
    } satisfies WaitForStep,
    ...(o.beforeRamp ?? []),
  ];
  return steps;
}
