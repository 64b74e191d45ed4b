import { takesTraffic } from '../probes/fleetSampler.js';
import { endOf, faultEndOf, poolsOf, result, seconds, type FaultRecord, type GameDayRecord, type CheckResult } from '../record.js';

/** Faults that make a server unable to serve its pools. */
function takesServersDown(f: FaultRecord): boolean {
  return f.type === 'power-off' || (f.type === 'kill-process' && f.service !== 'sentinel' && f.service !== 'redis');
}

/**
 * Dead servers leave every pool within `withinMs`, on every proxy that is
 * still alive; no request is served by a dead app instance after that.
 */
export function leavePools(rec: GameDayRecord, withinMs: number): CheckResult | undefined {
  const measured: Array<{ what: string; ms: number | null }> = [];
  let lateServed = 0;
  for (const f of rec.faults.filter((x) => takesServersDown(x) && x.injectedAt !== undefined)) {
    const from = f.injectedAt!;
    // The window ends when the undo begins: from then on a host the fault took may answer again.
    const until = faultEndOf(f) ?? rec.loadEndedAt;
    for (const host of f.hosts) {
      for (const m of poolsOf(rec.inventory, host)) {
        const liveProxies = m.proxies.filter((p) => !f.hosts.includes(p));
        if (liveProxies.length === 0) continue; // nothing left to route: the pool-holds check of the pre-flight says so
        const left = rec.fleet.find((s) => s.at >= from && s.at <= until && liveProxies.every((p) => s.proxies[p] != null && !takesTraffic(s.proxies[p]![`${m.backend}/${host}`])));
        measured.push({ what: `${host} from ${m.pool}`, ms: left ? left.at - from : null });
        if (left && rec.inventory.hosts.find((h) => h.name === host && 'http' in h.services)) {
          lateServed += rec.requests.filter((r) => r.servedBy === host && r.at > left.at && endOf(r) < until).length;
        }
      }
    }
  }
  if (measured.length === 0) return undefined;
  const worst = Math.max(...measured.map((m) => m.ms ?? Infinity));
  const passed = Number.isFinite(worst) && worst <= withinMs && lateServed === 0;
  const slowest = measured.reduce((a, b) => ((a.ms ?? Infinity) >= (b.ms ?? Infinity) ? a : b));
  const never = measured.filter((m) => m.ms === null).map((m) => m.what);
  const detail = never.length
    ? `never left while the fault lasted: ${never.join(', ')} (limit ${seconds(withinMs)})`
    : `${measured.length} pool memberships left; the slowest, ${slowest.what}, after ${seconds(slowest.ms!)} (limit ${seconds(withinMs)})${lateServed ? `; ${lateServed} requests served by a dead instance after that` : ''}`;
  return result('dead-servers-leave-pools', 'dead servers leave every pool', passed, detail, { detectedMs: Number.isFinite(worst) ? worst : null, limitMs: withinMs, memberships: measured.length, servedByDeadAfter: lateServed }, rec.fleet.at(-1)?.at ?? rec.loadEndedAt);
}

/**
 * When a fault takes the Redis primary: another server becomes the writable
 * primary within `withinMs`, and every app instance still alive writes
 * again (a create served by it succeeds) without a restart.
 */
export function redisFailover(rec: GameDayRecord, withinMs: number): CheckResult | undefined {
  for (const f of rec.faults.filter((x) => x.injectedAt !== undefined && (x.type === 'power-off' || (x.type === 'kill-process' && x.service === 'redis')))) {
    const before = rec.redis.filter((s) => s.at < f.injectedAt!).at(-1);
    const oldPrimary = before?.writable[0];
    if (!oldPrimary || !f.hosts.includes(oldPrimary)) continue;
    const promoted = rec.redis.find((s) => s.at > f.injectedAt! && s.writable.length > 0 && !s.writable.includes(oldPrimary));
    const failedOverMs = promoted ? promoted.at - f.injectedAt! : null;
    // App instances: hosts with an http service that are not proxies (a proxy's http is its frontend, it never writes to Redis).
    const isProxy = (name: string) => rec.inventory.pools.some((p) => p.proxies.includes(name));
    const apps = rec.inventory.hosts.filter((h) => 'http' in h.services && !isProxy(h.name) && !rec.faults.some((x) => x.type === 'power-off' && x.hosts.includes(h.name))).map((h) => h.name);
    const sawServedBy = rec.requests.some((r) => r.servedBy);
    const writesAfter = promoted ? rec.requests.filter((r) => r.kind !== 'read' && r.ok && r.at >= promoted.at) : [];
    const silentApps = sawServedBy ? apps.filter((a) => !writesAfter.some((r) => r.servedBy === a)) : writesAfter.length ? [] : apps;
    const passed = failedOverMs !== null && failedOverMs <= withinMs && silentApps.length === 0;
    const detail = failedOverMs === null
      ? `no other Redis became a writable primary after ${oldPrimary} was lost`
      : `${promoted!.writable[0]} took writes ${seconds(failedOverMs)} after ${oldPrimary} was lost (limit ${seconds(withinMs)})` +
        (silentApps.length ? `; no successful write after that through ${silentApps.join(', ')} (a dead Redis client?)` : `; every live app instance wrote to it again`);
    return result('redis-failover', 'a new Redis primary is elected and the app writes to it without a restart', passed, detail, { failedOverMs, limitMs: withinMs, newPrimary: promoted?.writable[0] ?? null, appsNotWriting: silentApps.join(',') || null }, promoted?.at ?? rec.loadEndedAt);
  }
  return undefined;
}
