import { takesTraffic } from '../probes/fleetSampler.js';
import { appInstances } from '../probes/appStats.js';
import { coverageOf, endOf, faultEndOf, inconclusive, MIN_COVERAGE, poolsOf, result, seconds, type Coverage, type FaultRecord, type GameDayRecord, type CheckResult } from '../record.js';

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
  const unlisted: string[] = [];
  // Coverage: over each membership's window (until it is seen gone, at most the limit), the samples in which every live proxy answered.
  const coverage: Coverage = { needed: 0, got: 0, of: 'fleet samples with every live proxy answering' };
  for (const f of rec.faults.filter((x) => takesServersDown(x) && x.injectedAt !== undefined)) {
    const from = f.injectedAt!;
    // The window ends when the undo begins: from then on a host the fault took may answer again.
    const until = faultEndOf(f) ?? rec.loadEndedAt;
    for (const host of f.hosts) {
      for (const m of poolsOf(rec.inventory, host)) {
        const liveProxies = m.proxies.filter((p) => !f.hosts.includes(p));
        if (liveProxies.length === 0) continue; // nothing left to route: the pool-holds check of the pre-flight says so
        // A server no live proxy listed before the fault cannot be seen leaving: its absence is no departure.
        const listedBefore = rec.fleet.filter((s) => s.at < from && liveProxies.every((p) => s.proxies[p] != null)).at(-1);
        if (!listedBefore || liveProxies.some((p) => listedBefore.proxies[p]![`${m.backend}/${host}`] === undefined)) {
          unlisted.push(`${host} in ${m.backend}`);
          continue;
        }
        const left = rec.fleet.find((s) => s.at >= from && s.at <= until && liveProxies.every((p) => s.proxies[p] != null && !takesTraffic(s.proxies[p]![`${m.backend}/${host}`])));
        measured.push({ what: `${host} from ${m.pool}`, ms: left ? left.at - from : null });
        const windowEnd = Math.min(until, left ? left.at : from + withinMs);
        const seen = coverageOf(rec.fleet, (s) => liveProxies.every((p) => s.proxies[p] != null), from, windowEnd, rec.fleetIntervalMs, coverage.of);
        coverage.needed += seen.needed;
        coverage.got += seen.got;
        if (left && rec.inventory.hosts.find((h) => h.name === host && 'http' in h.services)) {
          lateServed += rec.requests.filter((r) => r.servedBy === host && r.at > left.at && endOf(r) < until).length;
        }
      }
    }
  }
  if (measured.length === 0 && unlisted.length === 0) return undefined;
  if (unlisted.length && !measured.some((m) => m.ms !== null && m.ms > withinMs) && lateServed === 0) {
    return inconclusive('dead-servers-leave-pools', 'dead servers leave every pool', `no live proxy listed ${unlisted.join(', ')} just before the fault (HAProxy's runtime API): its leaving cannot be seen`, rec.loadEndedAt);
  }
  const worst = Math.max(...measured.map((m) => m.ms ?? Infinity));
  // A membership never seen gone while the proxies did not answer is not seen at all: inconclusive, not failed.
  const thin = coverage.got < MIN_COVERAGE * coverage.needed;
  const observedLate = measured.some((m) => m.ms !== null && m.ms > withinMs) || lateServed > 0;
  const passed = (Number.isFinite(worst) && worst <= withinMs && lateServed === 0) || (thin && !observedLate);
  const slowest = measured.reduce((a, b) => ((a.ms ?? Infinity) >= (b.ms ?? Infinity) ? a : b));
  const never = measured.filter((m) => m.ms === null).map((m) => m.what);
  const detail = never.length
    ? `never left while the fault lasted: ${never.join(', ')} (limit ${seconds(withinMs)})`
    : `${measured.length} pool memberships left; the slowest, ${slowest.what}, after ${seconds(slowest.ms!)} (limit ${seconds(withinMs)})${lateServed ? `; ${lateServed} requests served by a dead instance after that` : ''}`;
  return result('dead-servers-leave-pools', 'dead servers leave every pool', passed, detail, { detectedMs: Number.isFinite(worst) ? worst : null, limitMs: withinMs, memberships: measured.length, servedByDeadAfter: lateServed }, rec.fleet.at(-1)?.at ?? rec.loadEndedAt, coverage);
}

const REDIS_FAILOVER = 'redis-failover';
const REDIS_FAILOVER_TITLE = 'a new Redis primary is elected and the app writes to it without a restart';

/** How far back before a fault the Redis samples are read for who was primary. */
const ROLE_LOOKBACK_MS = 2000;

/** Why a check does not apply to this run (decided from the faults' hosts and their roles before injection). */
export interface NotApplicableResult {
  notApplicable: string;
}

/**
 * When a fault takes the Redis primary (as the Redis samples named it just
 * before the fault): another server becomes the writable primary within
 * `withinMs`, and every app instance still alive writes to it again without
 * a restart, as its own counters show (GET /monitor/stats: writes that
 * reached Redis rise after the promotion, and none is left queued at the
 * end). An HTTP 201 proves nothing here: the app answers it when the write
 * was only queued.
 */
export function redisFailover(rec: GameDayRecord, withinMs: number): CheckResult | NotApplicableResult {
  const candidates = rec.faults.filter((x) => x.injectedAt !== undefined && (x.type === 'power-off' || (x.type === 'kill-process' && x.service === 'redis')));
  const seenPrimaries: string[] = [];
  for (const f of candidates) {
    const answered = rec.redis.filter((s) => s.at < f.injectedAt! && s.at >= f.injectedAt! - ROLE_LOOKBACK_MS && (s.unknown ?? []).length === 0);
    const before = answered.at(-1);
    if (!before) {
      if (f.hosts.some((h) => rec.redis.some((s) => s.masters.includes(h) || (s.unknown ?? []).includes(h)))) {
        return inconclusive(REDIS_FAILOVER, REDIS_FAILOVER_TITLE, `no Redis sample with every server answering in the ${seconds(ROLE_LOOKBACK_MS)} before ${f.label}: whether it took the Redis primary is unknown`, f.injectedAt!);
      }
      continue;
    }
    const oldPrimary = before.writable[0] ?? before.masters[0];
    if (oldPrimary) seenPrimaries.push(oldPrimary);
    if (!oldPrimary || !f.hosts.includes(oldPrimary)) continue;
    return failedOver(rec, f, oldPrimary, withinMs);
  }
  const who = [...new Set(seenPrimaries)];
  return { notApplicable: candidates.length === 0 ? 'no fault takes a Redis server down' : `no fault took the Redis primary (it was ${who.join(', ') || 'none'} just before the fault)` };
}

function failedOver(rec: GameDayRecord, f: FaultRecord, oldPrimary: string, withinMs: number): CheckResult {
  const promoted = rec.redis.find((s) => s.at > f.injectedAt! && s.writable.length > 0 && !s.writable.includes(oldPrimary));
  const failedOverMs = promoted ? promoted.at - f.injectedAt! : null;
  const down = (name: string) => rec.faults.some((x) => x.injectedAt !== undefined && (x.type === 'power-off' || (x.type === 'kill-process' && x.service === 'http')) && x.hosts.includes(name));
  const apps = appInstances(rec.inventory).map((a) => a.name).filter((a) => !down(a));
  if (!promoted) {
    return result(REDIS_FAILOVER, REDIS_FAILOVER_TITLE, false, `no other Redis became a writable primary after ${oldPrimary} was lost`, { failedOverMs: null, limitMs: withinMs, newPrimary: null, appsNotWriting: null }, rec.loadEndedAt);
  }
  // Per live app: its counters before the promotion, after it, and at the end.
  const samples = rec.apps ?? [];
  const notWriting: string[] = [];
  const stillQueued: string[] = [];
  const unseen: string[] = [];
  for (const app of apps) {
    const seen = samples.filter((s) => s.apps[app] != null);
    const base = seen.filter((s) => s.at <= promoted.at).at(-1)?.apps[app];
    const after = seen.filter((s) => s.at > promoted.at);
    const last = after.at(-1)?.apps[app];
    if (!base || !last) {
      unseen.push(app);
      continue;
    }
    if (last.landed <= base.landed) notWriting.push(app);
    if (last.pending > 0) stillQueued.push(`${app} (${last.pending})`);
  }
  const inTime = failedOverMs! <= withinMs;
  const observedBroken = !inTime || notWriting.length > 0 || stillQueued.length > 0;
  const head = `${promoted.writable[0]} took writes ${seconds(failedOverMs!)} after ${oldPrimary} was lost (limit ${seconds(withinMs)})`;
  const measured = { failedOverMs, limitMs: withinMs, newPrimary: promoted.writable[0], appsNotWriting: notWriting.join(',') || null, appsStillQueued: stillQueued.join(',') || null };
  if (!observedBroken && unseen.length) {
    return inconclusive(REDIS_FAILOVER, REDIS_FAILOVER_TITLE, `${head}; the Redis write counters (GET /monitor/stats) of ${unseen.join(', ')} were not read before and after the promotion: whether they write to it is unknown`, promoted.at);
  }
  const detail = head +
    (notWriting.length ? `; no write reached Redis after that through ${notWriting.join(', ')} (a dead Redis client?)` : '') +
    (stillQueued.length ? `; writes still queued for Redis at the end: ${stillQueued.join(', ')}` : '') +
    (!notWriting.length && !stillQueued.length ? `; every live app instance's writes reached it (${apps.join(', ')}), none left queued` : '');
  return result(REDIS_FAILOVER, REDIS_FAILOVER_TITLE, !observedBroken, detail, measured, promoted.at);
}
