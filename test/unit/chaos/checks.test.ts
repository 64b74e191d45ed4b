import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { evaluateChecks, type FaultRecord, type GameDayRecord } from '../../../chaos/checks/index.js';
import { leavePools, redisFailover } from '../../../chaos/checks/failover.js';
import { readsResume, writesResume } from '../../../chaos/checks/resume.js';
import { noStaleReads, oneWritablePrimary } from '../../../chaos/checks/invariants.js';
import { errorBudget, noLostWrites } from '../../../chaos/checks/data.js';
import { checksSchema } from '../../../chaos/scenario/schema.js';
import type { LoopSample } from '../../../chaos/load/loop.js';
import type { DbSample, FleetSample } from '../../../chaos/probes/fleetSampler.js';
import type { RedisPrimarySample } from '../../../chaos/probes/redisPrimaries.js';
import type { AckedWritesCheck } from '../../../chaos/load/ackedWrites.js';
import type { AppStatsSample } from '../../../chaos/probes/appStats.js';
import type { MarkerRead, MarkerSample, MarkerWrite, ReadMarkerRecord } from '../../../chaos/probes/readMarkers.js';
import { coverageOf, type CheckResult } from '../../../chaos/record.js';
import type { RequestKind } from '../../../chaos/load/targets.js';

const inv = labInventory(22);

/** The load starts at T0, faults count from T0 + 5 s, the fault is injected at F and undone 15 s later. */
const T0 = Date.UTC(2025, 0, 1, 12, 0, 0);
const FAULTS_FROM = T0 + 5000;
const F = T0 + 10_000;
const UNDO = F + 15_000;
const END = T0 + 40_000;
const iso = (t: number) => new Date(t).toISOString();

function record(over: Partial<GameDayRecord> = {}): GameDayRecord {
  return {
    inventory: inv,
    loadStartedAt: T0,
    faultsFrom: FAULTS_FROM,
    loadEndedAt: END,
    faults: [],
    responses: [],
    requests: [],
    fleet: [],
    redis: [],
    fleetIntervalMs: 500,
    ...over,
  };
}

function fault(hosts: string[], over: Partial<FaultRecord> = {}): FaultRecord {
  return { id: 'loss', type: 'power-off', label: `host ${hosts.join(', ')}`, hosts, atMs: F - FAULTS_FROM, forMs: UNDO - F, injectedAt: F, undoneAt: UNDO, ...over };
}

const primary: DbSample = { readOnly: false, replicating: false, ioRunning: false, sqlRunning: false, lagMs: 0 };
const replica = (lagMs = 50): DbSample => ({ readOnly: true, replicating: true, ioRunning: true, sqlRunning: true, lagMs });
const healthyDb = (): FleetSample['db'] => ({ 'db-1': primary, 'db-2': replica(), 'db-3': replica() });

type Views = FleetSample['proxies'];
/** A fleet sample every 500 ms over the whole run. */
function fleet(view: (t: number) => { proxies?: Views; db?: FleetSample['db'] }, from = T0, to = END, step = 500): FleetSample[] {
  const out: FleetSample[] = [];
  for (let t = from; t <= to; t += step) {
    const v = view(t);
    out.push({ at: t, proxies: v.proxies ?? {}, db: v.db ?? healthyDb(), sentinels: {}, ms: 4 });
  }
  return out;
}
const onBoth = (statuses: Record<string, string>): Views => ({ 'proxy-1': statuses, 'proxy-2': statuses });

/** Redis samples every 100 ms over the whole run. */
function redisSamples(writable: (t: number) => string[]): RedisPrimarySample[] {
  const out: RedisPrimarySample[] = [];
  for (let t = T0; t <= END; t += 100) out.push({ at: t, masters: writable(t), writable: writable(t) });
  return out;
}

function req(at: number, kind: RequestKind, ok = true, over: Partial<LoopSample> = {}): LoopSample {
  return { at, kind, ok, status: ok ? (kind === 'create' ? 201 : 200) : 503, ms: 20, ...(ok ? {} : { error: 'HTTP 503' }), ...over };
}

/** A write every 200 ms (T0, T0 + 200, ...) and a read in between (T0 + 100, ...), served by app-1..3 in turn. */
function load(outcome: (t: number, kind: RequestKind) => Partial<LoopSample> = () => ({})): LoopSample[] {
  const out: LoopSample[] = [];
  const apps = ['app-1', 'app-2', 'app-3'];
  let i = 0;
  for (let t = T0; t < END; t += 100, i++) {
    const kind: RequestKind = i % 2 === 1 ? 'read' : i % 4 === 0 ? 'create' : 'mark-read';
    const o = outcome(t, kind);
    out.push(req(t, kind, o.ok ?? true, { servedBy: apps[Math.floor(i / 2) % 3], ...o }));
  }
  return out;
}

const acked = (over: Partial<AckedWritesCheck> = {}): AckedWritesCheck => ({
  created: 120,
  markedRead: 40,
  createsLostInDb: [],
  createsLostInRedis: [],
  readsLostInDb: [],
  readsLostInRedis: [],
  ...over,
});

describe('leavePools: dead servers leave every pool', () => {
  // db-2 is a replica: never in db_write's rotation; proxy-1 takes 3.5 s to drop it from db_read (UP, then "UP 1/2" while its checks fail), proxy-2 1 s.
  const db2Leaves = (t: number): { proxies: Views } => ({
    proxies: {
      'proxy-1': { 'db_write/db-2': 'DOWN', 'db_read/db-2': t < F + 2000 ? 'UP' : t < F + 3500 ? 'UP 1/2' : 'DOWN' },
      'proxy-2': { 'db_write/db-2': 'DOWN', 'db_read/db-2': t < F + 1000 ? 'UP' : 'DOWN' },
    },
  });

  it('measures when the last live proxy stopped routing to the dead server', () => {
    const rec = record({ faults: [fault(['db-2'])], fleet: fleet(db2Leaves) });
    const c = leavePools(rec, 5000)!;
    expect(c.id).toBe('dead-servers-leave-pools');
    expect(c.passed).toBe(true);
    expect(c.measured).toMatchObject({ detectedMs: 3500, limitMs: 5000, memberships: 2, servedByDeadAfter: 0 });
    expect(c.detail).toBe('2 pool memberships left; the slowest, db-2 from db-read, after 3.5 s (limit 5.0 s)');
  });

  it('fails when that is slower than the limit', () => {
    const c = leavePools(record({ faults: [fault(['db-2'])], fleet: fleet(db2Leaves) }), 3000)!;
    expect(c.passed).toBe(false);
    expect(c.measured.detectedMs).toBe(3500);
    expect(c.detail).toContain('db-2 from db-read, after 3.5 s (limit 3.0 s)');
  });

  it('fails with "never left" when a live proxy routes to it for as long as the fault lasts', () => {
    // proxy-1 drops db-2 only after the undo: too late to count.
    const view = (t: number) => ({ proxies: { ...db2Leaves(t).proxies, 'proxy-1': { 'db_write/db-2': 'DOWN', 'db_read/db-2': t < UNDO + 1000 ? 'UP' : 'DOWN' } } });
    const c = leavePools(record({ faults: [fault(['db-2'])], fleet: fleet(view) }), 5000)!;
    expect(c.passed).toBe(false);
    expect(c.measured.detectedMs).toBeNull();
    expect(c.detail).toBe('never left while the fault lasted: db-2 from db-read (limit 5.0 s)');
  });

  it('ignores what a proxy that is itself in the fault shows', () => {
    // Rack c1: db-3 and proxy-2. proxy-2 still shows db-3 UP; only proxy-1 routes.
    const view = (t: number) => ({
      proxies: {
        'proxy-1': { 'db_write/db-3': 'DOWN', 'db_read/db-3': t < F + 2000 ? 'UP' : 'DOWN' },
        'proxy-2': { 'db_write/db-3': 'DOWN', 'db_read/db-3': 'UP' },
      },
    });
    const rackC1 = leavePools(record({ faults: [fault(['db-3', 'proxy-2'], { label: 'rack c1' })], fleet: fleet(view) }), 5000)!;
    expect(rackC1.passed).toBe(true);
    expect(rackC1.measured.detectedMs).toBe(2000);
    // The same views with proxy-2 alive: db-3 never left its pool there.
    const hostOnly = leavePools(record({ faults: [fault(['db-3'])], fleet: fleet(view) }), 5000)!;
    expect(hostOnly.passed).toBe(false);
    expect(hostOnly.detail).toContain('never left while the fault lasted: db-3 from db-read');
  });

  it('counts requests an app instance served after it left its pool', () => {
    const view = (t: number) => ({ proxies: onBoth({ 'web/app-2': t < F + 2000 ? 'UP' : 'DOWN' }) });
    const requests = [req(F + 500, 'read', true, { servedBy: 'app-2' }), req(F + 3000, 'read', true, { servedBy: 'app-2' }), req(F + 4000, 'create', true, { servedBy: 'app-2' }), req(F + 4000, 'read', true, { servedBy: 'app-1' })];
    const killHttp = fault(['app-2'], { type: 'kill-process', service: 'http', label: 'http on host app-2' });
    const c = leavePools(record({ faults: [killHttp], fleet: fleet(view), requests }), 5000)!;
    expect(c.passed).toBe(false);
    expect(c.measured).toMatchObject({ detectedMs: 2000, servedByDeadAfter: 2 });
    expect(c.detail).toContain('web, after 2.0 s (limit 5.0 s); 2 requests served by a dead instance after that');
    // Without those two late requests it holds.
    const clean = leavePools(record({ faults: [killHttp], fleet: fleet(view), requests: requests.slice(0, 1) }), 5000)!;
    expect(clean.passed).toBe(true);
  });

  it('ends its window when the undo begins: an app answering while the undo waits for its slowest host is back, not dead', () => {
    // app-1 is powered off with db-1; the undo powers both on at UNDO, app-1 is back at once, db-1 keeps the undo waiting 3 s more.
    const out = (t: number) => (t >= F + 2000 && t < UNDO + 1000 ? 'DOWN' : 'UP');
    const view = (t: number) => ({ proxies: onBoth({ 'web/app-1': out(t), 'db_write/db-1': out(t), 'db_read/db-1': out(t) }) });
    const slowUndo = fault(['app-1', 'db-1'], { undoStartedAt: UNDO, undoneAt: UNDO + 3000 });
    const servedByTheNewApp1 = [req(UNDO + 1500, 'read', true, { servedBy: 'app-1' }), req(UNDO + 2500, 'create', true, { servedBy: 'app-1' })];
    const held = leavePools(record({ faults: [slowUndo], fleet: fleet(view), requests: servedByTheNewApp1 }), 5000)!;
    expect(held.measured).toMatchObject({ servedByDeadAfter: 0 });
    expect(held.passed).toBe(true);
    // The same answers before the undo began came from an instance that was powered off: the check fails.
    const beforeUndo = [req(UNDO - 1500, 'read', true, { servedBy: 'app-1' })];
    const failed = leavePools(record({ faults: [slowUndo], fleet: fleet(view), requests: beforeUndo }), 5000)!;
    expect(failed.passed).toBe(false);
    expect(failed.measured).toMatchObject({ servedByDeadAfter: 1 });
  });

  it('is inconclusive, not held nor failed, when the live proxies did not answer while the server should have left', () => {
    // proxy-1 and proxy-2 answer nothing from the fault on: db-2 is never seen gone, and never seen staying.
    const view = (t: number) => ({ proxies: t >= F ? { 'proxy-1': null, 'proxy-2': null } : onBoth({ 'db_read/db-2': 'UP', 'db_write/db-2': 'UP' }) });
    const c = leavePools(record({ faults: [fault(['db-2'])], fleet: fleet(view) }), 5000)!;
    expect(c.status).toBe('inconclusive');
    expect(c.coverage).toMatchObject({ got: 0, of: 'fleet samples with every live proxy answering' });
  });

  it('is inconclusive for a server no proxy listed before the fault: a name HAProxy does not know never counts as gone', () => {
    const c = leavePools(record({ faults: [fault(['db-2'])], fleet: fleet(() => ({ proxies: onBoth({ 'db_read/db-3': 'UP' }) })) }), 5000)!;
    expect(c.status).toBe('inconclusive');
    expect(c.detail).toContain('db-2 in db_read');
  });

  it('does not apply to faults that take no pool server down', () => {
    expect(leavePools(record({ faults: [fault(['sentinel-1'])], fleet: fleet(() => ({})) }), 5000)).toBeUndefined();
    expect(leavePools(record({ faults: [fault(['db-2'], { type: 'kill-process', service: 'sentinel' })], fleet: fleet(() => ({})) }), 5000)).toBeUndefined();
    expect(leavePools(record({ faults: [fault(['db-2'], { injectedAt: undefined, undoneAt: undefined })], fleet: fleet(() => ({})) }), 5000)).toBeUndefined();
  });
});

describe('redisFailover: a new Redis primary takes writes, and every app\'s writes reach it', () => {
  // redis-1 takes writes until the fault, nobody for 5.6 s, then redis-2.
  const failover = redisSamples((t) => (t < F ? ['redis-1'] : t < F + 5600 ? [] : ['redis-2']));
  // Every request answers 2xx throughout: the app queues a write Redis does not take and still answers 201.
  const all2xx = load();
  /** Each app's Redis counters every 500 ms: writes that landed rise by 2 a sample, except while `stuck` says so (then they queue). */
  const appStats = (stuck: (app: string, t: number) => boolean = (_a, t) => t >= F && t < F + 5600, dark: (app: string, t: number) => boolean = () => false): AppStatsSample[] => {
    const out: AppStatsSample[] = [];
    const state: Record<string, { landed: number; pending: number }> = { 'app-1': { landed: 0, pending: 0 }, 'app-2': { landed: 0, pending: 0 }, 'app-3': { landed: 0, pending: 0 } };
    for (let t = T0; t <= END; t += 500) {
      const apps: AppStatsSample['apps'] = {};
      for (const [app, c] of Object.entries(state)) {
        if (stuck(app, t)) c.pending += 2;
        else {
          c.landed += 2 + c.pending;
          c.pending = 0;
        }
        apps[app] = dark(app, t) ? null : { ...c };
      }
      out.push({ at: t, apps });
    }
    return out;
  };

  it('measures the failover and sees every live app instance\'s writes reach the new primary, none left queued', () => {
    const c = redisFailover(record({ faults: [fault(['redis-1'])], redis: failover, requests: all2xx, apps: appStats() }), 15_000) as CheckResult;
    expect(c.id).toBe('redis-failover');
    expect(c.measured).toMatchObject({ failedOverMs: 5600, limitMs: 15_000, newPrimary: 'redis-2', appsNotWriting: null, appsStillQueued: null });
    expect(c.detail).toBe('redis-2 took writes 5.6 s after redis-1 was lost (limit 15.0 s); every live app instance\'s writes reached it (app-1, app-2, app-3), none left queued');
    expect(c.status).toBe('held');
    expect(c.at).toBe(iso(F + 5600));
  });

  it('passes when the fault also takes a proxy and an app instance (zone az-a): the powered-off app is not expected to write', () => {
    const zoneA = fault(['db-1', 'redis-1', 'sentinel-1', 'proxy-1', 'app-1'], { label: 'zone az-a' });
    const c = redisFailover(record({ faults: [zoneA], redis: failover, requests: all2xx, apps: appStats(undefined, (app, t) => app === 'app-1' && t >= F) }), 15_000) as CheckResult;
    expect(c.status).toBe('held');
  });

  it('fails naming a live app instance whose writes never reach Redis again, though it answered 201 to every one (a stuck Redis client)', () => {
    const stuck = appStats((app, t) => (app === 'app-3' ? t >= F : t >= F && t < F + 5600));
    const c = redisFailover(record({ faults: [fault(['redis-1'])], redis: failover, requests: all2xx, apps: stuck }), 15_000) as CheckResult;
    expect(all2xx.every((r) => r.ok)).toBe(true);
    expect(c.status).toBe('failed');
    expect(c.measured.appsNotWriting).toBe('app-3');
    expect(c.detail).toContain('; no write reached Redis after that through app-3 (a dead Redis client?)');
    expect(c.detail).toMatch(/writes still queued for Redis at the end: app-3 \(\d+\)/);
  });

  it('fails when the failover is slower than the limit, or no other server is promoted', () => {
    const slow = redisFailover(record({ faults: [fault(['redis-1'])], redis: failover, apps: appStats() }), 5000) as CheckResult;
    expect(slow.status).toBe('failed');
    expect(slow.detail).toContain('5.6 s after redis-1 was lost (limit 5.0 s)');
    const none = redisSamples((t) => (t < F ? ['redis-1'] : []));
    const c = redisFailover(record({ faults: [fault(['redis-1'])], redis: none, apps: appStats() }), 15_000) as CheckResult;
    expect(c.status).toBe('failed');
    expect(c.measured.newPrimary).toBeNull();
    expect(c.detail).toBe('no other Redis became a writable primary after redis-1 was lost');
  });

  it('is inconclusive, never held, when the apps\' counters were not read, or no Redis sample answered before the fault', () => {
    const unread = redisFailover(record({ faults: [fault(['redis-1'])], redis: failover, requests: all2xx }), 15_000) as CheckResult;
    expect(unread.status).toBe('inconclusive');
    expect(unread.detail).toContain('of app-1, app-2, app-3 were not read before and after the promotion');
    // One 80 ms probe timeout no longer makes the check vanish: no answer before the fault is "unknown".
    const dark = failover.map((x) => (x.at >= F - 2000 && x.at < F ? { ...x, masters: [], writable: [], unknown: ['redis-1'] } : x));
    const c = redisFailover(record({ faults: [fault(['redis-1'])], redis: dark, apps: appStats() }), 15_000) as CheckResult;
    expect(c.status).toBe('inconclusive');
    expect(c.detail).toContain('whether it took the Redis primary is unknown');
  });

  it('does not apply when the fault did not take the Redis primary, and says why', () => {
    expect(redisFailover(record({ faults: [fault(['db-2'])], redis: failover }), 15_000)).toEqual({ notApplicable: 'no fault took the Redis primary (it was redis-1 just before the fault)' });
    expect(redisFailover(record({ faults: [fault(['redis-2'])], redis: failover }), 15_000)).toEqual({ notApplicable: 'no fault took the Redis primary (it was redis-1 just before the fault)' });
    expect(redisFailover(record({ faults: [fault(['redis-1'], { type: 'kill-process', service: 'sentinel' })], redis: failover }), 15_000)).toEqual({ notApplicable: 'no fault takes a Redis server down' });
  });

  it('applies to a crash of the Redis process as well', () => {
    const c = redisFailover(record({ faults: [fault(['redis-1'], { type: 'kill-process', service: 'redis' })], redis: failover, apps: appStats() }), 15_000) as CheckResult;
    expect(c.measured.failedOverMs).toBe(5600);
  });
});

describe('writesResume / readsResume: coverage and the undo', () => {
  it('is inconclusive when no write was sent for most of the fault', () => {
    const reads = load().filter((r) => r.kind === 'read' || r.at < F);
    expect(writesResume(record({ faults: [fault(['db-1'])], requests: reads }), 5000)!.status).toBe('inconclusive');
  });

  it('fails when writes come back only with the undo, whatever its limit', () => {
    // Every write fails from F until the undo; the first success is just after it.
    const requests = load((t, kind) => (kind !== 'read' && t >= F && t < UNDO ? { ok: false, status: 503 } : {}));
    const c = writesResume(record({ faults: [fault(['db-1'], { undoStartedAt: UNDO })], requests }), 30_000)!;
    expect(c.status).toBe('failed');
    expect(c.detail).toContain('came back only once host db-1 was undone');
  });
});

describe('writesResume / readsResume', () => {
  const db2 = fault(['db-2'], { label: 'rack b1' });

  it('writes: measured from the fault to the end of the first success after the last failure', () => {
    // Writes at F + 200 .. F + 2000 fail (10 of them); the write at F + 2200 works and ends 20 ms later.
    const requests = load((t, kind) => (kind !== 'read' && t > F && t <= F + 2000 ? { ok: false } : {}));
    const c = writesResume(record({ faults: [db2], requests }), 5000)!;
    expect(c.id).toBe('writes-resume');
    expect(c.passed).toBe(true);
    expect(c.measured).toMatchObject({ recoveredMs: 2220, limitMs: 5000, failed: 10 });
    expect(c.detail).toBe('writes back 2.2 s after rack b1 (limit 5.0 s); 10 failed meanwhile');
    const strict = writesResume(record({ faults: [db2], requests }), 2000)!;
    expect(strict.passed).toBe(false);
    expect(strict.detail).toContain('(limit 2.0 s)');
    // Only writes failed: reads did not.
    expect(readsResume(record({ faults: [db2], requests }), 5000)!.detail).toBe('no reads failed');
  });

  it('fails when they never come back', () => {
    const requests = load((t, kind) => (kind !== 'read' && t > F ? { ok: false } : {}));
    const c = writesResume(record({ faults: [db2], requests }), 5000)!;
    expect(c.passed).toBe(false);
    expect(c.measured.recoveredMs).toBeNull();
    expect(c.detail).toBe('writes did not recover within the run after rack b1');
  });

  it('passes and says so when none failed', () => {
    const c = writesResume(record({ faults: [db2], requests: load() }), 5000)!;
    expect(c.passed).toBe(true);
    expect(c.detail).toBe('no writes failed');
    expect(c.measured.failed).toBe(0);
  });

  it('reads: failures after the fault and their recovery', () => {
    // Reads at F + 100 .. F + 6900 fail (35 of them); the read at F + 7100 works.
    const requests = load((t, kind) => (kind === 'read' && t > F && t < F + 7000 ? { ok: false } : {}));
    const c = readsResume(record({ faults: [db2], requests }), 5000)!;
    expect(c.id).toBe('reads-resume');
    expect(c.passed).toBe(false);
    expect(c.measured).toMatchObject({ recoveredMs: 7120, failed: 35 });
    expect(c.detail).toBe('reads back 7.1 s after rack b1 (limit 5.0 s); 35 failed meanwhile');
    expect(writesResume(record({ faults: [db2], requests }), 5000)!.passed).toBe(true);
  });

  it('ignores failures during the warm-up, before the fault', () => {
    const requests = load((t) => (t < FAULTS_FROM ? { ok: false } : {}));
    expect(readsResume(record({ faults: [db2], requests }), 5000)!.detail).toBe('no reads failed');
  });

  it('is left out when no fault was injected', () => {
    expect(writesResume(record({ faults: [fault(['db-2'], { injectedAt: undefined, undoneAt: undefined })], requests: load() }), 5000)).toBeUndefined();
  });
});

describe('oneWritablePrimary', () => {
  it('holds with one writable primary; a db host a power-off holds down is known down, not unknown', () => {
    const samples = fleet((t) => ({ db: { 'db-1': primary, 'db-2': t > F && t < UNDO ? null : replica(), 'db-3': replica() } }));
    const c = oneWritablePrimary(record({ faults: [fault(['db-2'])], fleet: samples, redis: redisSamples(() => ['redis-1']) }));
    expect(c.status).toBe('held');
    expect(c.detail).toBe(`MariaDB: one server taking writes at most in all ${samples.length} samples where every live server answered; Redis: one writable primary at most in all ${redisSamples(() => []).length} samples where every live server answered`);
  });

  it('is inconclusive, never held, when live servers do not answer for most of the run', () => {
    // db-2 is dark from T0 + 5 s on, and no fault took its power: whether it took writes is unknown.
    const samples = fleet((t) => ({ db: { 'db-1': primary, 'db-2': t >= T0 + 5000 ? null : replica(), 'db-3': replica() } }));
    const c = oneWritablePrimary(record({ fleet: samples, redis: redisSamples(() => ['redis-1']) }));
    expect(c.status).toBe('inconclusive');
    expect(c.passed).toBe(false);
    expect(c.coverage).toEqual({ needed: 80, got: 10, of: 'MariaDB samples with every live server answering' });
    expect(c.detail).toMatch(/^saw 10 of the 80 MariaDB samples with every live server answering it needed \(12 %, under 80 %\)/);
    // So are Redis samples where a server did not answer, and a run with no sample at all.
    const redisDark = redisSamples(() => ['redis-1']).map((x) => ({ ...x, unknown: x.at > T0 + 2000 ? ['redis-2'] : [] }));
    expect(oneWritablePrimary(record({ fleet: fleet(() => ({})), redis: redisDark })).status).toBe('inconclusive');
    expect(oneWritablePrimary(record({})).status).toBe('inconclusive');
  });

  it('fails on two MariaDB servers taking writes in one sample, naming them', () => {
    const samples = fleet((t) => ({ db: { 'db-1': primary, 'db-2': t === F ? { ...primary } : replica(), 'db-3': replica() } }));
    const c = oneWritablePrimary(record({ fleet: samples, redis: redisSamples(() => ['redis-1']) }));
    expect(c.status).toBe('failed');
    expect(c.measured.dbSplitSamples).toBe(1);
    expect(c.detail).toContain(`MariaDB: 1 samples with two servers taking writes, first at ${iso(F)} (db-1, db-2)`);
  });

  it('counts a replica with read_only off as a second writer: it takes any write sent to it', () => {
    const samples = fleet(() => ({ db: { 'db-1': primary, 'db-2': { ...replica(), readOnly: false }, 'db-3': replica() } }));
    const c = oneWritablePrimary(record({ fleet: samples, redis: redisSamples(() => ['redis-1']) }));
    expect(c.status).toBe('failed');
    expect(c.detail).toContain('(db-1, db-2)');
  });

  it('fails on two Redis servers taking writes in one sample', () => {
    const redis = redisSamples((t) => (t >= F && t < F + 300 ? ['redis-1', 'redis-2'] : ['redis-1']));
    const c = oneWritablePrimary(record({ fleet: fleet(() => ({})), redis }));
    expect(c.passed).toBe(false);
    expect(c.measured.redisSplitSamples).toBe(3);
    expect(c.detail).toContain(`Redis: 3 samples with two writable primaries, first at ${iso(F)} (redis-1, redis-2)`);
    expect(c.detail).toContain('MariaDB: one server taking writes at most');
  });
});

/** A marker written every 100 ms from T0 (seq 1 at T0), acknowledged 5 ms later. */
const seqAt = (t: number) => Math.floor((t - T0) / 100) + 1;
const writes = (): MarkerWrite[] => {
  const out: MarkerWrite[] = [];
  for (let t = T0; t <= END; t += 100) out.push({ seq: seqAt(t), sentAt: t, ackedAt: t + 5, via: 'proxy-1' });
  return out;
};
/** Fresh reads: each returns the marker acknowledged just before it (db-2 through proxy-1, db-3 through proxy-2), unless `read` says otherwise. */
function markers(read: (t: number, proxy: string) => MarkerRead | undefined = () => undefined, over: Partial<ReadMarkerRecord> = {}): ReadMarkerRecord {
  const samples: MarkerSample[] = [];
  for (let t = T0; t <= END; t += 100) {
    const fresh = (proxy: string, server: string): MarkerRead => read(t, proxy) ?? { outcome: 'read', seq: seqAt(t - 100), server, ms: 3 };
    samples.push({ at: t, reads: { 'proxy-1': fresh('proxy-1', 'db-2'), 'proxy-2': fresh('proxy-2', 'db-3') } });
  }
  const w = writes();
  return { run: 'r1', intervalMs: 100, writes: w, samples, survived: w.map((x) => x.seq), ...over };
}
describe('noStaleReads: reads observed through the read pools', () => {
  /** db-2 (through proxy-1) returns what it held `behindMs` before, from F for 5 s. */
  const behind = (behindMs: number) => (t: number, proxy: string): MarkerRead | undefined =>
    proxy === 'proxy-1' && t >= F && t < F + 5000 ? { outcome: 'read', seq: seqAt(t - behindMs), server: 'db-2', ms: 3 } : undefined;

  it('fails on a replica that serves reads older than the lag limit, and names it', () => {
    const c = noStaleReads(record({ markers: markers(behind(5000)) }), 1000)!;
    expect(c.id).toBe('no-stale-reads');
    expect(c.status).toBe('failed');
    expect(c.measured).toMatchObject({ maxLagMs: 1000, staleReads: 50, staleServers: 'db-2' });
    expect(c.detail).toMatch(new RegExp(`^50 of \\d+ reads through the read pools were stale, from db-2; the first at ${iso(F)} through proxy-1: db-2 returned marker \\d+ when marker \\d+ had been acknowledged \\d\\.\\d s before \\(limit 1000 ms\\)$`));
  });

  it("holds when every read is within the limit plus the read pool's time to drop a replica (1 s by default, or the scenario's), and fails past it", () => {
    const ok = noStaleReads(record({ markers: markers(behind(1900)) }), 1000)!;
    expect(ok.status).toBe('held');
    expect(ok.detail).toMatch(/^all \d+ reads through the read pools returned a marker no older than the lag limit \(1000 ms\) allows$/);
    expect(noStaleReads(record({ markers: markers(behind(2200)) }), 1000)!.status).toBe('failed');
    expect(noStaleReads(record({ markers: markers(behind(1700)) }), 1000, 500)!.status).toBe('failed');
  });

  it('does not count markers that a lost primary took with it: a replica cannot be behind data that no longer exists', () => {
    // The primary acknowledged F-2 s .. F and died; the new one never had those markers, and serves the one before until writes resume at F + 5 s.
    const lostFrom = seqAt(F - 2000);
    const w = writes();
    const survived = w.map((x) => x.seq).filter((q) => q < lostFrom || q >= seqAt(F + 5000));
    const old = (t: number): MarkerRead | undefined => (t >= F && t < F + 5500 ? { outcome: 'read', seq: lostFrom - 1, server: 'db-3', ms: 3 } : undefined);
    const c = noStaleReads(record({ markers: markers(old, { survived }) }), 1000)!;
    expect(c.status).toBe('held');
    expect(c.measured.markersLost).toBe(survived.length ? w.length - survived.length : 0);
    // The same reads with every marker kept were stale.
    expect(noStaleReads(record({ markers: markers(old) }), 1000)!.status).toBe('failed');
  });

  it('is inconclusive without the probe, when the markers could not be read back, or when none was acknowledged', () => {
    const none = noStaleReads(record(), 1000)!;
    expect(none.status).toBe('inconclusive');
    expect(none.detail).toContain('no read-marker probe ran');
    const lostBack = noStaleReads(record({ markers: markers(undefined, { survived: null, error: 'no answer in 1000 ms' }) }), 1000)!;
    expect(lostBack.status).toBe('inconclusive');
    expect(lostBack.detail).toContain('could not be read back');
    const unacked = noStaleReads(record({ markers: markers(undefined, { writes: writes().map((w) => ({ ...w, ackedAt: undefined })), error: "marker write: Table 'gameday.read_markers' doesn't exist" }) }), 1000)!;
    expect(unacked.status).toBe('inconclusive');
    expect(unacked.detail).toContain("no marker was acknowledged through the write pool and kept (marker write: Table 'gameday.read_markers' doesn't exist)");
  });

  it('is inconclusive when the reads went unanswered for most of the run; a proxy that had no server to send a read to was observed', () => {
    const dark = (t: number): MarkerRead | undefined => (t > T0 + 5000 ? { outcome: 'unknown', ms: 250, error: 'no answer in 250 ms' } : undefined);
    const c = noStaleReads(record({ markers: markers(dark) }), 1000)!;
    expect(c.status).toBe('inconclusive');
    expect(c.detail).toContain('read-marker rounds with every live proxy answering');
    const empty = (t: number): MarkerRead | undefined => (t > T0 + 5000 ? { outcome: 'refused', ms: 2, error: 'Connection lost' } : undefined);
    expect(noStaleReads(record({ markers: markers(empty) }), 1000)!.status).toBe('held');
    // Refusals alone prove no read was served, but not that the probe reached a pool at all (a wrong port): no read, no pass.
    const noRead = noStaleReads(record({ markers: markers(() => ({ outcome: 'refused', ms: 2, error: 'Connection lost' })) }), 1000)!;
    expect(noRead.status).toBe('inconclusive');
    expect(noRead.detail).toContain('no read through the read pools answered with a marker');
  });

  it('a powered-off proxy that does not answer is not missing data', () => {
    const off = (t: number, proxy: string): MarkerRead | undefined => (proxy === 'proxy-2' && t >= F && t < UNDO ? { outcome: 'unknown', ms: 250, error: 'no answer' } : undefined);
    const c = noStaleReads(record({ faults: [fault(['proxy-2'])], markers: markers(off) }), 1000)!;
    expect(c.status).toBe('held');
    expect(noStaleReads(record({ markers: markers(off) }), 1000)!.status).toBe('inconclusive');
  });
});

describe('noLostWrites', () => {
  it('passes when every acknowledged write is in MariaDB and Redis', () => {
    const c = noLostWrites(record({ ackedWrites: acked() }));
    expect(c.passed).toBe(true);
    expect(c.detail).toBe('120 acknowledged creates and 40 mark-reads: every one in MariaDB and in Redis');
  });

  it('fails when an acknowledged create is missing in MariaDB', () => {
    const c = noLostWrites(record({ ackedWrites: acked({ createsLostInDb: [{ userId: 7, id: 901, at: F + 10 }] }) }));
    expect(c.passed).toBe(false);
    expect(c.measured).toMatchObject({ lostInDb: 1, divergentInRedis: 0 });
    expect(c.detail).toBe('120 acknowledged creates and 40 mark-reads: MariaDB lacks 1 creates and 0 reads; Redis diverges on 0 creates and 0 reads');
  });

  it('fails on a Redis divergence unless the scenario destroyed Redis data on purpose', () => {
    const lost = acked({ createsLostInRedis: [{ userId: 7, id: 901, at: F + 10 }], readsLostInRedis: [{ userId: 8, id: 33, at: F + 20 }] });
    const plain = noLostWrites(record({ faults: [fault(['db-2'])], ackedWrites: lost }));
    expect(plain.passed).toBe(false);
    expect(plain.detail).toContain('Redis diverges on 1 creates and 1 reads');
    expect(plain.detail).not.toContain('repair');
    const wipe = noLostWrites(record({ faults: [fault(['redis-1', 'redis-2'], { type: 'redis-data-loss', label: 'every Redis restarted empty' })], ackedWrites: lost }));
    expect(wipe.passed).toBe(true);
    expect(wipe.detail).toContain('Redis data was destroyed on purpose: rebuild it with gameday warmup redis rebuild');
  });

  it('a redis-data-loss scenario still fails on a write lost in MariaDB', () => {
    const c = noLostWrites(record({ faults: [fault(['redis-1', 'redis-2'], { type: 'redis-data-loss' })], ackedWrites: acked({ readsLostInDb: [{ userId: 1, id: 1, at: F }] }) }));
    expect(c.passed).toBe(false);
  });

  it('is inconclusive, never a pass, when the stores could not be read, were not checked, or no write was acknowledged', () => {
    const c = noLostWrites(record({ ackedWrites: { error: 'connect ECONNREFUSED 198.18.22.11:3306' } }));
    expect(c.status).toBe('inconclusive');
    expect(noLostWrites(record({ ackedWrites: acked({ created: 0, markedRead: 0 }) })).status).toBe('inconclusive');
    expect(c.detail).toBe('could not read the stores at the end: connect ECONNREFUSED 198.18.22.11:3306');
    const none = noLostWrites(record());
    expect(none.passed).toBe(false);
    expect(none.detail).toBe('the stores were not checked');
  });
});

describe('errorBudget', () => {
  const budget = { maxFailedPercent: 0.1, maxP99Ms: 2000 };
  /** n requests after the warm-up, one every 10 ms. */
  const after = (n: number, each: (i: number) => Partial<LoopSample> = () => ({})) =>
    Array.from({ length: n }, (_, i) => {
      const o = each(i);
      return req(FAULTS_FROM + i * 10, 'read', o.ok ?? true, o);
    });

  it('holds and reports the figures', () => {
    const requests = [...after(1000, (i) => (i === 500 ? { ok: false, ms: 300 } : {})), req(T0, 'read', false)];
    const c = errorBudget(record({ requests }), budget);
    expect(c.passed).toBe(true);
    expect(c.measured).toMatchObject({ failed: 1, requests: 1000, failedPercent: 0.1, p99Ms: 20, errorWindowMs: 300 });
    expect(c.detail).toBe('1 of 1000 failed (0.10 %, budget 0.1 %), p99 20 ms (budget 2000 ms), error window 0.3 s');
  });

  it('fails when more requests failed than the budget allows', () => {
    const c = errorBudget(record({ requests: after(1000, (i) => (i === 10 || i === 20 ? { ok: false } : {})) }), budget);
    expect(c.passed).toBe(false);
    expect(c.detail).toBe('over budget: 0.20 % failed (budget 0.1 %)');
  });

  it('fails on p99 over budget', () => {
    const c = errorBudget(record({ requests: after(100, (i) => (i < 2 ? { ms: 3000 } : {})) }), budget);
    expect(c.passed).toBe(false);
    expect(c.measured.p99Ms).toBe(3000);
    expect(c.detail).toBe('over budget: p99 3000 ms (budget 2000 ms)');
    // One slow request in 100 is the 1 % over p99.
    expect(errorBudget(record({ requests: after(100, (i) => (i < 1 ? { ms: 3000 } : {})) }), budget).passed).toBe(true);
  });

  it('fails on an error window over budget, when one is set', () => {
    // Failures from +1 s to +9 s (the last one ends 100 ms later): 8.1 s.
    const requests = [...after(1000, (i) => (i === 100 || i === 900 ? { ok: false, ms: 100 } : {}))];
    const loose = { maxFailedPercent: 1, maxP99Ms: 2000 };
    expect(errorBudget(record({ requests }), loose).passed).toBe(true);
    const c = errorBudget(record({ requests }), { ...loose, maxErrorWindow: 5000 });
    expect(c.passed).toBe(false);
    expect(c.measured.errorWindowMs).toBe(8100);
    expect(c.detail).toBe('over budget: error window 8.1 s (budget 5.0 s)');
  });
});

describe('evaluateChecks', () => {
  // Rack b1: db-2 powered off and back; the pools drop it in 3.5 s, nothing fails.
  const view = (t: number) => ({
    proxies: onBoth({ 'db_write/db-2': 'DOWN', 'db_read/db-2': t >= F && t < F + 3500 ? 'UP' : t >= F && t < UNDO + 2000 ? 'DOWN' : 'UP', 'web/app-1': 'UP' }),
    db: { 'db-1': primary, 'db-2': t >= F && t < UNDO ? null : replica(), 'db-3': replica() },
  });
  const rec = () => record({ faults: [fault(['db-2'], { label: 'rack b1' })], fleet: fleet(view), redis: redisSamples(() => ['redis-1']), requests: load(), ackedWrites: acked(), markers: markers() });

  it('runs every check that applies, in a fixed order, with the defaults', () => {
    const checks = evaluateChecks(rec(), checksSchema.parse({}));
    expect(checks.map((c) => c.id)).toEqual(['dead-servers-leave-pools', 'writes-resume', 'reads-resume', 'one-writable-primary', 'no-stale-reads', 'no-lost-writes', 'error-budget']);
    expect(checks.filter((c) => !c.passed)).toEqual([]);
    const byId = Object.fromEntries(checks.map((c) => [c.id, c]));
    expect(byId['dead-servers-leave-pools'].measured).toMatchObject({ detectedMs: 3500, limitMs: 5000 });
    expect(byId['writes-resume'].measured.limitMs).toBe(5000);
    expect(byId['no-stale-reads'].measured.maxLagMs).toBe(3000);
    expect(byId['error-budget'].measured).toMatchObject({ limitP99Ms: 2000, limitFailedPercent: 0.1 });
  });

  it('the defaults apply to an unparsed spec too', () => {
    const checks = evaluateChecks(rec(), {});
    expect(checks.find((c) => c.id === 'dead-servers-leave-pools')!.measured.limitMs).toBe(5000);
    expect(checks.find((c) => c.id === 'error-budget')!.measured.limitP99Ms).toBe(2000);
  });

  it('false turns a check off; options override the defaults', () => {
    const off = evaluateChecks(rec(), checksSchema.parse({ leavePools: false, errorBudget: false, noLostWrites: false }));
    expect(off.map((c) => c.id)).toEqual(['writes-resume', 'reads-resume', 'one-writable-primary', 'no-stale-reads']);
    const strict = evaluateChecks(rec(), checksSchema.parse({ leavePools: { within: '3s' } }));
    const lp = strict.find((c) => c.id === 'dead-servers-leave-pools')!;
    expect(lp.passed).toBe(false);
    expect(lp.measured.limitMs).toBe(3000);
  });

  it('includes the Redis failover when the fault took the Redis primary', () => {
    const r = record({ faults: [fault(['redis-1'])], redis: redisSamples((t) => (t < F ? ['redis-1'] : t < F + 5600 ? [] : ['redis-2'])), requests: load(), fleet: fleet(() => ({})), ackedWrites: acked() });
    const ids = evaluateChecks(r, checksSchema.parse({ redisFailover: { within: '5s' } })).map((c) => [c.id, c.passed]);
    expect(ids).toContainEqual(['redis-failover', false]);
    expect(ids).not.toContainEqual(['dead-servers-leave-pools', expect.anything()]);
  });
});

describe('coverage of a check\'s window', () => {
  const samples = (step: number, answered: (t: number) => boolean = () => true) => {
    const out: Array<{ at: number; ok: boolean }> = [];
    for (let t = T0; t <= T0 + 10_000; t += step) out.push({ at: t, ok: answered(t) });
    return out;
  };
  it('counts the time complete samples saw, so a sampler a little late loses nothing and silence loses its share', () => {
    expect(coverageOf(samples(100), (s) => s.ok, T0, T0 + 10_000, 100, 'x')).toEqual({ needed: 100, got: 100, of: 'x' });
    expect(coverageOf(samples(130), (s) => s.ok, T0, T0 + 10_000, 100, 'x').got).toBeGreaterThanOrEqual(99);
    // No answer for the second half: half of it seen.
    expect(coverageOf(samples(100, (t) => t < T0 + 5000), (s) => s.ok, T0, T0 + 10_000, 100, 'x').got).toBe(50);
    // A sampler that stalls: a sample covers three intervals at most (3 + 3, and the last its own).
    expect(coverageOf([{ at: T0, ok: true }, { at: T0 + 9000, ok: true }], (s) => s.ok, T0, T0 + 10_000, 100, 'x').got).toBe(7);
  });
});
