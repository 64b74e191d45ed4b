import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Connection } from 'mysql2/promise';
import { type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { FaultDriver, ResolvedFault } from '../drivers/faults/types.js';
import type { RedisEndpoint } from '../drivers/redis/readiness.js';
import { JournalWriter, LockSet, newRunId, runDir, DEFAULT_LOCK_TTL_MS } from '../engine/index.js';
import { assertWritableStateDir } from '../engine/stateDir.js';
import type { LoadedScenario } from './scenario/load.js';
import { LOST_PRIMARY } from './scenario/schema.js';
import { resolveFaults } from './faults/resolve.js';
import { preflight } from './preflight.js';
import { report as loadReportSoFar, startLoadLoop, type LoopSample } from './load/loop.js';
import { startFleetSampler, takesTraffic, type FleetSample, type ProbeAccess } from './probes/fleetSampler.js';
import { watchRedisPrimaries } from './probes/redisPrimaries.js';
import { checkAckedWrites } from './load/ackedWrites.js';
import { evaluateChecks, type FaultRecord, type GameDayRecord, type ResponseRecord } from './checks/index.js';
import { buildReport } from './report/build.js';
import { writeReport } from './report/write.js';
import type { GameDayReport, Preflight } from './report/types.js';
import { poolsOf } from './record.js';

/** The fleet a game day runs against, wired by the CLI (lab or real fleet). */
export interface GameDayEnv {
  inventory: Inventory;
  /** The lab layout, or the inventory file: named in the report. */
  targetName: { inventory: string; layout?: string };
  faults: FaultDriver;
  probes: ProbeAccess;
  redisServers: Array<RedisEndpoint & { name: string }>;
  /** The web frontends the load goes through (every proxy's HTTP port). */
  frontends: Array<{ address: string; port: number }>;
  /** The truth at the end: the writable MariaDB primary and the Redis primary. */
  openStores(): Promise<{ db: Connection; redis: Redis; close(): Promise<void> }>;
  /** Runs a runbook as this game day's response (a nested run that inherits its locks). */
  runResponse(runbook: string, params: Record<string, unknown>, parentRunId: string, signal: AbortSignal): Promise<{ runId: string; state: string; error?: string }>;
}

export interface GameDayOptions {
  stateDir: string;
  signal: AbortSignal;
  log: Logger;
  /** One line per thing that happens, for the terminal. */
  progress(line: string): void;
  /** For tests: how a random target is drawn. */
  pick?: (n: number) => number;
  /** How long to let things settle after the load before the final checks. */
  settleMs?: number;
}

export interface GameDayOutcome {
  report: GameDayReport;
  runDir: string;
  files: { json: string; md: string; html: string };
}

// MariaDB writability, replication and HAProxy's view every 100 ms, as Redis roles: one writable primary is checked at every sample.
const FLEET_INTERVAL_MS = 100;
const REDIS_INTERVAL_MS = 100;

/** The plan of a game day, before anything is touched: the faults resolved and their blast radius. */
export function planGameDay(inv: Inventory, loaded: LoadedScenario, driver: Pick<FaultDriver, 'supports' | 'kind' | 'check'> | undefined, pick?: (n: number) => number): { faults: ResolvedFault[]; preflight: Omit<Preflight, 'steadyState'> } {
  const { scenario, file } = loaded;
  let faults: ResolvedFault[];
  try {
    faults = resolveFaults(inv, scenario.faults, pick);
  } catch (err) {
    if (err instanceof GamedayError) throw new GamedayError(err.code, err.message, `${file}: ${err.input}`, err.hint);
    throw err;
  }
  if (driver) {
    const unsupported = faults.filter((f) => !driver.supports.includes(f.type));
    if (unsupported.length) {
      throw new GamedayError('FAULT_UNSUPPORTED', `the ${driver.kind} fault driver cannot inject ${[...new Set(unsupported.map((f) => f.type))].join(', ')}`, file, `it supports: ${driver.supports.join(', ')}`);
    }
    driver.check?.(faults);
  }
  return { faults, preflight: preflight(inv, faults, scenario.load.duration, scenario.expect === 'breaks') };
}

/** Refuses, with the blast radius, a scenario that breaks a tier or pool without saying it expects to. */
export function assertPreflight(p: Omit<Preflight, 'steadyState'>, file: string): void {
  if (p.safe || p.expectBreaks) return;
  const breaking = p.faults.flatMap((f) => f.blastRadius.filter((b) => !b.ok).map((b) => `${f.target}: ${b.what}`));
  throw new GamedayError('PREFLIGHT_REFUSED', `these faults would break the fleet: ${breaking.join('; ')}; nothing was touched`, file, 'add "expect: breaks" to the scenario if that is what it is for, or pick a smaller target');
}

/** Waits until `t` (epoch ms), or throws when the run is stopped. */
async function until(t: number, signal: AbortSignal): Promise<void> {
  const ms = t - Date.now();
  if (ms > 0) await sleep(ms, undefined, { signal });
  if (signal.aborted) throw new Error('stopped');
}

/** The fault shows in the probes: every pool server it took is out of traffic on every live proxy that answered (at once for a fault on no pool server). */
export function faultDetected(inv: Inventory, f: ResolvedFault, sample: FleetSample | undefined): boolean {
  const memberships = f.hosts.flatMap((h) => poolsOf(inv, h).map((m) => ({ host: h, ...m })));
  if (memberships.length === 0) return true;
  if (!sample) return false;
  return memberships.every((m) => m.proxies.filter((p) => !f.hosts.includes(p)).every((p) => sample.proxies[p] != null && !takesTraffic(sample.proxies[p]![`${m.backend}/${m.host}`])));
}

/** Steady state: the warm-up's requests met the error budget, and the fleet had one writable MariaDB primary. */
function steadyState(requests: LoopSample[], fleet: FleetSample | undefined): { ok: boolean; detail: string } {
  const failed = requests.filter((r) => !r.ok).length;
  if (requests.length === 0) return { ok: false, detail: 'no request answered during the warm-up' };
  if (failed > 0) return { ok: false, detail: `${failed} of ${requests.length} warm-up requests failed: the fleet is not healthy, no fault was injected` };
  const writable = fleet ? Object.entries(fleet.db).filter(([, d]) => d && !d.readOnly && !d.replicating).length : 0;
  if (writable !== 1) return { ok: false, detail: `${writable} writable MariaDB primaries before any fault: no fault was injected` };
  return { ok: true, detail: `${requests.length} warm-up requests, none failed; one writable MariaDB primary` };
}

/**
 * Runs one game day: load, warm-up and steady state, the faults on their
 * timeline (each journaled before it acts, each undone whatever happens),
 * the responses, and the checks; writes report.json, .md and .html.
 */
export async function runGameDay(env: GameDayEnv, loaded: LoadedScenario, opts: GameDayOptions): Promise<GameDayOutcome> {
  const { scenario, file } = loaded;
  const inv = env.inventory;
  const plan = planGameDay(inv, loaded, env.faults, opts.pick);
  assertPreflight(plan.preflight, file);
  assertWritableStateDir(opts.stateDir);

  const runId = newRunId();
  const log = opts.log.child({ runId, scenario: scenario.name });
  const locks = new LockSet({ stateDir: opts.stateDir, runId, ancestors: [], ttlMs: DEFAULT_LOCK_TTL_MS, waitMs: 0, log });
  const lockNames = ['chaos:gameday', ...new Set(plan.faults.flatMap((f) => f.hosts.map((h) => `host:${h}`)))];
  await locks.acquire([`run:${runId}`, ...lockNames]);
  let journal: JournalWriter;
  try {
    journal = JournalWriter.create(opts.stateDir, runId);
    journal.write('run', 'note', {
      type: 'started',
      runbook: `chaos:${scenario.name}`,
      params: { scenario: file },
      plan: { faults: plan.faults, preflight: plan.preflight, faultDriver: env.faults.kind },
      runbookVersion: 'scenario',
      pid: process.pid,
      hostname: hostname(),
      steps: [
        { id: 'steady-state', title: 'steady state before any fault', kind: 'probe' },
        ...plan.faults.flatMap((f) => [
          { id: `fault/${f.id}`, title: `${f.type} ${f.label}`, kind: 'action', semantics: 'at-most-once' },
          { id: `undo/${f.id}`, title: `undo ${f.type} ${f.label}`, kind: 'action', semantics: 'idempotent' },
        ]),
      ],
      locks: locks.names,
    });
  } catch (err) {
    locks.releaseAll();
    throw err;
  }
  const dir = runDir(opts.stateDir, runId);
  opts.progress(`game day ${scenario.name}: run ${runId}`);

  const faults: FaultRecord[] = plan.faults.map((f) => ({ ...f }));
  const responses: ResponseRecord[] = [];
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });

  const fleet = startFleetSampler(inv, env.probes, FLEET_INTERVAL_MS);
  const redis = watchRedisPrimaries(env.redisServers, REDIS_INTERVAL_MS);
  const loadStartedAt = Date.now();
  const load = startLoadLoop({
    frontends: env.frontends,
    users: scenario.load.users,
    ratePerS: scenario.load.rate,
    createPercent: scenario.load.createPercent,
    markReadPercent: scenario.load.markReadPercent,
    timeoutMs: scenario.load.timeout,
    connectTimeoutMs: scenario.load.connectTimeout,
  });
  const faultsFrom = loadStartedAt + scenario.load.warmup;
  const loadEnd = faultsFrom + scenario.load.duration;
  let verdict: GameDayReport['verdict'] | undefined;
  let verdictReason = '';
  let steady = { ok: false, detail: 'not measured' };
  let failure: unknown;

  const undo = async (f: FaultRecord): Promise<void> => {
    if (f.injectedAt === undefined || f.undoneAt !== undefined) return;
    journal.write(`undo/${f.id}`, 'intent', { kind: 'action' });
    try {
      const detail = await env.faults.undo(f);
      f.undoneAt = Date.now();
      journal.write(`undo/${f.id}`, 'succeeded', { result: detail });
      opts.progress(`  ${clock(f.undoneAt - faultsFrom)} undone: ${f.type} ${f.label}`);
    } catch (err) {
      journal.write(`undo/${f.id}`, 'failed', { error: (err as Error).message });
      opts.progress(`  UNDO FAILED for ${f.type} ${f.label}: ${(err as Error).message}; "gameday chaos abort ${runId}" tries again`);
      throw err;
    }
  };

  const respond = (f: FaultRecord, on: 'detected' | 'undo'): Promise<void>[] =>
    scenario.responses
      .filter((r) => r.after === f.id && r.on === on)
      .map(async (r) => {
        if (on === 'detected') {
          while (!faultDetected(inv, f, fleet.latest()) && !stop.signal.aborted && Date.now() < loadEnd) await sleep(100);
        }
        if (stop.signal.aborted) return;
        await sleep(r.delay, undefined, { signal: stop.signal }).catch(() => undefined);
        if (stop.signal.aborted) return;
        const params = withLostPrimary(r.params, f.lostPrimary);
        if (!params) {
          responses.push({ runbook: r.runbook, after: f.id, startedAt: Date.now(), endedAt: Date.now(), state: 'skipped', error: 'the fault took down no MariaDB primary' });
          journal.write(`response/${r.runbook}/${f.id}`, 'note', { type: 'skipped', reason: 'the fault took down no MariaDB primary' });
          opts.progress(`  response ${r.runbook} skipped: ${f.label} took down no MariaDB primary`);
          return;
        }
        const rec: ResponseRecord = { runbook: r.runbook, after: f.id, startedAt: Date.now(), state: 'running' };
        responses.push(rec);
        opts.progress(`  ${clock(rec.startedAt - faultsFrom)} response: runbook ${r.runbook} ${JSON.stringify(params)}`);
        journal.write(`response/${r.runbook}/${f.id}`, 'intent', { kind: 'action', params });
        try {
          const out = await env.runResponse(r.runbook, params, runId, stop.signal);
          Object.assign(rec, { endedAt: Date.now(), state: out.state, runId: out.runId, error: out.error });
          journal.write(`response/${r.runbook}/${f.id}`, out.state === 'succeeded' ? 'succeeded' : 'failed', { runId: out.runId, state: out.state, error: out.error });
        } catch (err) {
          Object.assign(rec, { endedAt: Date.now(), state: 'failed', error: (err as Error).message });
          journal.write(`response/${r.runbook}/${f.id}`, 'failed', { error: (err as Error).message });
        }
        opts.progress(`  ${clock(rec.endedAt! - faultsFrom)} response ${r.runbook}: ${rec.state}${rec.error ? ` (${rec.error})` : ''}`);
      });

  const timeline = async (f: FaultRecord): Promise<void> => {
    const pending: Promise<void>[] = [];
    try {
      await until(faultsFrom + f.atMs, stop.signal);
      f.lostPrimary = writablePrimaryAmong(fleet.latest(), f.hosts);
      journal.write(`fault/${f.id}`, 'intent', { kind: 'action', fault: f });
      f.injectedAt = Date.now(); // from the intent on, the fault may be in place: undo it whatever happens
      try {
        const detail = await env.faults.inject(f);
        journal.write(`fault/${f.id}`, 'succeeded', { result: detail });
      } catch (err) {
        f.error = (err as Error).message;
        journal.write(`fault/${f.id}`, 'failed', { error: f.error });
        throw new Error(`could not inject ${f.type} ${f.label}: ${f.error}`);
      }
      opts.progress(`  ${clock(f.injectedAt - faultsFrom)} fault: ${f.type} ${f.label} (${f.hosts.join(', ')})`);
      pending.push(...respond(f, 'detected'));
      await until(f.forMs === undefined ? loadEnd : f.injectedAt + f.forMs, stop.signal);
    } finally {
      await undo(f);
      pending.push(...respond(f, 'undo'));
      await Promise.all(pending);
    }
  };

  let loopReport: Awaited<ReturnType<typeof load.stop>> | undefined;
  try {
    await until(faultsFrom, stop.signal);
    const warm = load.peek().filter((r) => r.at < faultsFrom);
    steady = steadyState(warm, fleet.latest());
    journal.write('steady-state', steady.ok ? 'succeeded' : 'failed', steady.ok ? { result: steady.detail } : { error: steady.detail });
    opts.progress(`  steady state: ${steady.detail}`);
    if (!steady.ok) {
      verdict = 'refused';
      verdictReason = `steady state did not hold before the first fault: ${steady.detail}`;
    } else {
      const results = await Promise.allSettled(faults.map(timeline));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected && !stop.signal.aborted) throw rejected.reason;
      await until(loadEnd, stop.signal);
    }
  } catch (err) {
    if (stop.signal.aborted) {
      verdict = 'aborted';
      verdictReason = `stopped: ${String(opts.signal.reason ?? 'signal')}; every fault was undone`;
    } else {
      failure = err;
      verdict = 'aborted';
      verdictReason = `the game day failed: ${(err as Error).message}`;
    }
  } finally {
    // Whatever happened: every fault injected is undone before anything else.
    for (const f of faults) await undo(f).catch((err) => log.error({ err, fault: f.id }, 'undo failed'));
    loopReport = await bounded('stopping the load', load.stop(), 5_000, { ...loadReportSoFar(load.peek(), loadStartedAt), samples: load.peek(), acked: load.peekAcked() }, log);
    opts.signal.removeEventListener('abort', onAbort);
  }

  // Let the fleet settle (repair queues drain, pools take servers back) while the probes still watch.
  if (verdict === undefined) await sleep(opts.settleMs ?? 3000);
  const fleetSamples = await bounded('stopping the fleet probes', fleet.stop(), 5_000, fleet.samples, log);
  const redisReport = await bounded('stopping the Redis probes', redis.stop(), 5_000, { samples: 0, twoWritable: [], noneWritable: 0, longestUnwritableMs: 0, all: [] }, log);
  const loadEndedAt = Date.now();

  const record: GameDayRecord = {
    inventory: inv,
    loadStartedAt,
    faultsFrom,
    loadEndedAt,
    faults,
    responses,
    requests: loopReport.samples,
    fleet: fleetSamples,
    redis: redisReport.all,
    fleetIntervalMs: FLEET_INTERVAL_MS,
  };
  if (verdict === undefined || verdict === 'aborted') record.ackedWrites = await bounded('looking up the acknowledged writes', lookUpAckedWrites(env, loopReport.acked), 30_000, { error: 'the stores did not answer within 30 s' }, log);
  const checks = verdict === 'refused' ? [] : evaluateChecks(record, scenario.checks);
  if (verdict === undefined) {
    const failed = checks.filter((c) => !c.passed);
    verdict = failed.length ? 'failed' : 'passed';
    verdictReason = failed.length ? `${failed.length} of ${checks.length} checks failed: ${failed.map((c) => c.id).join(', ')}` : `all ${checks.length} checks held`;
  }
  const report = buildReport(
    {
      runId,
      scenario: { name: scenario.name, description: scenario.description, file },
      target: env.targetName,
      startedAt: new Date(loadStartedAt).toISOString(),
      preflight: { ...plan.preflight, steadyState: steady },
      ratePerS: scenario.load.rate,
      redisIntervalMs: REDIS_INTERVAL_MS,
    },
    record,
    checks,
    verdict,
    verdictReason,
  );
  const files = writeReport(dir, report);
  journal.write('run', 'note', { type: 'finished', state: verdict === 'passed' ? 'succeeded' : verdict === 'aborted' ? 'stopped' : 'failed', verdict, verdictReason });
  journal.close();
  locks.releaseAll();
  if (failure) throw failure;
  return { report, runDir: dir, files };
}

/** The writable MariaDB primary (read_only off, not replicating) among `hosts` in the sample. */
export function writablePrimaryAmong(sample: FleetSample | undefined, hosts: string[]): string | undefined {
  return hosts.find((h) => {
    const d = sample?.db[h];
    return d != null && !d.readOnly && !d.replicating;
  });
}

/** The response's parameters with `$lost-primary` filled in; undefined when it needs a primary the fault did not take. */
export function withLostPrimary(params: Record<string, string | number | boolean>, lostPrimary: string | undefined): Record<string, string | number | boolean> | undefined {
  const needs = Object.values(params).includes(LOST_PRIMARY);
  if (needs && lostPrimary === undefined) return undefined;
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v === LOST_PRIMARY ? lostPrimary! : v]));
}

async function lookUpAckedWrites(env: GameDayEnv, acked: { created: Array<{ userId: number; id: number; at: number }>; markedRead: Array<{ userId: number; id: number; at: number }> }): Promise<GameDayRecord['ackedWrites']> {
  try {
    const stores = await env.openStores();
    try {
      return await checkAckedWrites(acked, stores.db, stores.redis);
    } finally {
      await stores.close();
    }
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** A phase of the wrap-up that must not hang the run: after `ms`, the fallback, and a log line naming the phase. */
async function bounded<T>(what: string, p: Promise<T>, ms: number, fallback: T, log: Logger): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => {
    log.warn({ phase: what, ms }, `${what} did not end within ${ms} ms: going on without it`);
    resolve(fallback);
  }, ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds since the warm-up ended, as "+12.3s" ("-1.0s" during the warm-up). */
function clock(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(1)}s`;
}
