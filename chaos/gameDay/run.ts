import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { JournalWriter, LockSet, newRunId, runDir, DEFAULT_LOCK_TTL_MS } from '../../engine/index.js';
import { assertWritableStateDir } from '../../engine/stateDir.js';
import type { LoadedScenario } from '../scenario/load.js';
import type { Scenario } from '../scenario/schema.js';
import { report as loadReportSoFar, startLoadLoop, type LoopReport } from '../load/loop.js';
import { startFleetSampler } from '../probes/fleetSampler.js';
import { watchAppStats } from '../probes/appStats.js';
import { watchRedisPrimaries } from '../probes/redisPrimaries.js';
import { startReadMarkers } from '../probes/readMarkers.js';
import { livePrimaries } from '../probes/livePrimaries.js';
import { primaryTiersOf } from '../faults/resolve.js';
import { checkAckedWrites } from '../load/ackedWrites.js';
import { evaluate } from '../checks/index.js';
import { buildReport } from '../report/build.js';
import { writeReport, writeRequests } from '../report/write.js';
import type { FaultRecord, GameDayRecord, ResponseRecord } from '../record.js';
import type { GameDayEnv, GameDayOptions, GameDayOutcome } from './types.js';
import { assertPreflight, planGameDay } from './plan.js';
import { playTimeline, undo, type TimelineContext } from './timeline.js';
import { endState, NOT_MEASURED, steadyState, verdictOf, type LiveEnd, type SteadyState } from './verdict.js';
import { bounded, until } from './waits.js';

export type { GameDayEnv, GameDayOptions, GameDayOutcome } from './types.js';
export { assertPreflight, planGameDay } from './plan.js';
export { faultDetected, withLostPrimary, writablePrimaryAmong } from './timeline.js';

// MariaDB writability, replication and HAProxy's view every 100 ms, as Redis roles: one writable primary is checked at every sample.
export const FLEET_INTERVAL_MS = 100;
export const REDIS_INTERVAL_MS = 100;
/** How often each app instance's Redis write counters are read (what redis-failover judges by). */
const APP_STATS_INTERVAL_MS = 500;

type Plan = ReturnType<typeof planGameDay>;
type Load = ReturnType<typeof startLoadLoop>;
type FleetSampler = ReturnType<typeof startFleetSampler>;
type RedisWatcher = ReturnType<typeof watchRedisPrimaries>;
type Markers = Awaited<ReturnType<typeof startReadMarkers>>;

/** What the live part of a game day leaves: how it ended, the steady state it measured, the responses it ran. */
interface Live {
  end: LiveEnd;
  steady: SteadyState;
  responses: ResponseRecord[];
}

/**
 * Runs one game day: load, warm-up and steady state, the faults on their
 * timeline (each journaled before it acts, each undone whatever happens),
 * the responses, and the checks; writes report.json, .md and .html.
 */
export async function runGameDay(env: GameDayEnv, loaded: LoadedScenario, opts: GameDayOptions): Promise<GameDayOutcome> {
  const { scenario, file } = loaded;
  // A { primary: <tier> } target is the primary the fleet names now, not the inventory's role (a failover moves it).
  const tiers = primaryTiersOf(scenario.faults);
  const primaries = tiers.length ? await livePrimaries(env.inventory, tiers, env.probes) : undefined;
  const plan = planGameDay(env.inventory, loaded, env.faults, opts.pick, primaries);
  assertPreflight(plan.preflight, file);
  assertWritableStateDir(opts.stateDir);
  const { runId, log, locks, journal } = await openRun(env, loaded, plan, opts);
  const dir = runDir(opts.stateDir, runId);
  opts.progress(`game day ${scenario.name}: run ${runId}`);

  const faults: FaultRecord[] = plan.faults.map((f) => ({ ...f }));
  const stop = new AbortController();
  const onAbort = () => stop.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  const fleet = startFleetSampler(env.inventory, env.probes, FLEET_INTERVAL_MS);
  const apps = watchAppStats(env.inventory, APP_STATS_INTERVAL_MS);
  const redis = watchRedisPrimaries(env.redisServers, REDIS_INTERVAL_MS);
  // Reads observed through the read pools (no-stale-reads): a marker written every 100 ms through the write pool, read back through every read pool.
  const markers = env.probes.pools ? await startReadMarkers(env.inventory, env.probes.pools, env.probes.mysql, runId, FLEET_INTERVAL_MS) : undefined;
  const loadStartedAt = Date.now();
  const load = startLoad(env, scenario);
  const faultsFrom = loadStartedAt + scenario.load.warmup;
  const ctx: TimelineContext = {
    env,
    responses: scenario.responses,
    journal,
    runId,
    latest: () => fleet.latest(),
    faultsFrom,
    loadEnd: faultsFrom + scenario.load.duration,
    signal: stop.signal,
    progress: opts.progress,
  };

  let live: Live;
  let loopReport: LoopReport;
  try {
    live = await playLive(ctx, faults, load, opts.signal);
  } finally {
    // Whatever happened: every fault injected is undone before anything else.
    for (const f of faults) await undo(ctx, f).catch((err) => log.error({ err, fault: f.id }, 'undo failed'));
    // A load that does not stop in time is reported as it stands, its unanswered requests counted as failed.
    const cutShort = () => [...load.peek(), ...load.peekInFlight()].sort((x, y) => x.at - y.at);
    loopReport = await bounded('stopping the load', load.stop(), 5_000, { ...loadReportSoFar(cutShort(), loadStartedAt), samples: cutShort(), acked: load.peekAcked() }, log);
    opts.signal.removeEventListener('abort', onAbort);
  }

  const record = await measure(env, live, { fleet, redis, apps, markers, loopReport, loadStartedAt, faultsFrom, faults }, opts.settleMs, log);
  const { checks, notApplicable } = live.end.kind === 'refused' ? { checks: [], notApplicable: [] } : evaluate(record, scenario.checks);
  const { verdict, verdictReason } = verdictOf(live.end, checks);
  const report = buildReport(
    {
      runId,
      scenario: { name: scenario.name, description: scenario.description, file },
      target: env.targetName,
      startedAt: new Date(loadStartedAt).toISOString(),
      preflight: { ...plan.preflight, steadyState: live.steady },
      ratePerS: scenario.load.rate,
      redisIntervalMs: REDIS_INTERVAL_MS,
    },
    record,
    checks,
    verdict,
    verdictReason,
    notApplicable,
  );
  writeRequests(dir, record.requests);
  const files = writeReport(dir, report);
  journal.write('run', 'note', { type: 'finished', state: endState(verdict), verdict, verdictReason });
  journal.close();
  locks.releaseAll();
  if (live.end.kind === 'failed') throw live.end.error;
  return { report, runDir: dir, files };
}

/** A new run: its id, its locks (`run:<id>`, `chaos:gameday`, a `host:` lock per host a fault touches) and its journal, opened with the start record. */
async function openRun(env: GameDayEnv, loaded: LoadedScenario, plan: Plan, opts: GameDayOptions): Promise<{ runId: string; log: Logger; locks: LockSet; journal: JournalWriter }> {
  const runId = newRunId();
  const log = opts.log.child({ runId, scenario: loaded.scenario.name });
  const locks = new LockSet({ stateDir: opts.stateDir, runId, ancestors: [], ttlMs: DEFAULT_LOCK_TTL_MS, waitMs: 0, log });
  const lockNames = ['chaos:gameday', ...new Set(plan.faults.flatMap((f) => f.hosts.map((h) => `host:${h}`)))];
  await locks.acquire([`run:${runId}`, ...lockNames]);
  try {
    const journal = JournalWriter.create(opts.stateDir, runId);
    journal.write('run', 'note', startRecord(loaded, plan, env.faults.kind, locks.names));
    return { runId, log, locks, journal };
  } catch (err) {
    locks.releaseAll();
    throw err;
  }
}

/** The journal's start record of a game day: what `chaos status` and `chaos abort` read back (the faults in the plan). */
function startRecord(loaded: LoadedScenario, plan: Plan, faultDriver: string, locks: string[]): Record<string, unknown> {
  return {
    type: 'started',
    runbook: `chaos:${loaded.scenario.name}`,
    params: { scenario: loaded.file },
    plan: { faults: plan.faults, preflight: plan.preflight, faultDriver },
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
    locks,
  };
}

function startLoad(env: GameDayEnv, scenario: Scenario): Load {
  return startLoadLoop({
    frontends: env.frontends,
    users: scenario.load.users,
    ratePerS: scenario.load.rate,
    createPercent: scenario.load.createPercent,
    markReadPercent: scenario.load.markReadPercent,
    timeoutMs: scenario.load.timeout,
    connectTimeoutMs: scenario.load.connectTimeout,
  });
}

/**
 * The live part: the warm-up and its steady state (journaled), then, if it
 * held, the fault timeline and the rest of the load. Never throws: a stop
 * or an error is how it ended. Faults still in place are the caller's to undo.
 */
async function playLive(ctx: TimelineContext, faults: FaultRecord[], load: Load, stopSignal: AbortSignal): Promise<Live> {
  let steady = NOT_MEASURED;
  let responses: ResponseRecord[] = [];
  try {
    await until(ctx.faultsFrom, ctx.signal);
    steady = steadyState(load.peek().filter((r) => r.at < ctx.faultsFrom), ctx.latest());
    ctx.journal.write('steady-state', steady.ok ? 'succeeded' : 'failed', steady.ok ? { result: steady.detail } : { error: steady.detail });
    ctx.progress(`  steady state: ${steady.detail}`);
    if (!steady.ok) return { end: { kind: 'refused', steady }, steady, responses };
    const played = await playTimeline(ctx, faults);
    responses = played.responses;
    if (played.failure && !ctx.signal.aborted) throw played.failure.error;
    await until(ctx.loadEnd, ctx.signal);
    return { end: { kind: 'completed' }, steady, responses };
  } catch (err) {
    const end: LiveEnd = ctx.signal.aborted ? { kind: 'stopped', reason: String(stopSignal.reason ?? 'signal') } : { kind: 'failed', error: err };
    return { end, steady, responses };
  }
}

/**
 * After the load: lets the fleet settle when the load ran to its end (repair
 * queues drain, pools take servers back) while the probes still watch, stops
 * the probes, and puts together what was measured. The acknowledged writes
 * are looked up unless the steady state refused the run.
 */
async function measure(
  env: GameDayEnv,
  live: Live,
  m: { fleet: FleetSampler; redis: RedisWatcher; apps: ReturnType<typeof watchAppStats>; markers: Markers | undefined; loopReport: LoopReport; loadStartedAt: number; faultsFrom: number; faults: FaultRecord[] },
  settleMs: number | undefined,
  log: Logger,
): Promise<GameDayRecord> {
  if (live.end.kind === 'completed') await sleep(settleMs ?? 3000);
  const fleetSamples = await bounded('stopping the fleet probes', m.fleet.stop(), 5_000, m.fleet.samples, log);
  const redisReport = await bounded('stopping the Redis probes', m.redis.stop(), 5_000, { samples: m.redis.samples.length, twoWritable: [], noneWritable: 0, longestUnwritableMs: 0, all: m.redis.samples }, log);
  const appSamples = await bounded('stopping the app probes', m.apps.stop(), 5_000, m.apps.samples, log);
  const markers = m.markers ? await bounded('stopping the read-marker probe', m.markers.stop(), 10_000, undefined, log) : undefined;
  const loadEndedAt = Date.now();

  const record: GameDayRecord = {
    inventory: env.inventory,
    loadStartedAt: m.loadStartedAt,
    faultsFrom: m.faultsFrom,
    loadEndedAt,
    faults: m.faults,
    responses: live.responses,
    requests: m.loopReport.samples,
    fleet: fleetSamples,
    redis: redisReport.all,
    fleetIntervalMs: FLEET_INTERVAL_MS,
    redisIntervalMs: REDIS_INTERVAL_MS,
    apps: appSamples,
    ...(markers ? { markers } : {}),
  };
  if (live.end.kind !== 'refused') record.ackedWrites = await bounded('looking up the acknowledged writes', lookUpAckedWrites(env, m.loopReport.acked), 30_000, { error: 'the stores did not answer within 30 s' }, log);
  return record;
}

async function lookUpAckedWrites(env: GameDayEnv, acked: LoopReport['acked']): Promise<GameDayRecord['ackedWrites']> {
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
