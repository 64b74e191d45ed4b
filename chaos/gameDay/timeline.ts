import { livePrimaries } from '../probes/livePrimaries.js';
import { GamedayError } from '../../core/errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Inventory } from '../../topology/index.js';
import type { ResolvedFault } from '../../drivers/faults/types.js';
import { journaled, type JournalWriter } from '../../engine/index.js';
import { LOST_PRIMARY, type Scenario } from '../scenario/schema.js';
import { takesTraffic, type FleetSample } from '../probes/fleetSampler.js';
import { poolsOf, type FaultRecord, type ResponseRecord } from '../record.js';
import type { GameDayEnv } from './types.js';
import { clock, until } from './waits.js';

/** What the fault timeline works with: given once, never changed while it plays. */
export interface TimelineContext {
  env: Pick<GameDayEnv, 'inventory' | 'faults' | 'runResponse' | 'probes'>;
  /** The scenario's responses. */
  responses: Scenario['responses'];
  journal: JournalWriter;
  runId: string;
  /** The fleet probes' latest sample. */
  latest(): FleetSample | undefined;
  /** End of the warm-up: faults' `at` counts from here. */
  faultsFrom: number;
  loadEnd: number;
  /** Aborted when the game day is stopped. */
  signal: AbortSignal;
  progress(line: string): void;
}

/** How the timeline ended: the responses it ran, and the first fault whose timeline failed (it could not be injected or undone). */
export interface TimelineOutcome {
  responses: ResponseRecord[];
  failure?: { error: unknown };
}

/**
 * Plays every fault on its timeline, side by side: each is injected at its
 * time (journaled before it acts), held, and undone whatever happens, with
 * its responses. The faults' records are filled in as it goes (injectedAt,
 * lostPrimary, undoneAt, error), so the caller can undo what is still in
 * place even when a timeline failed.
 */
export async function playTimeline(ctx: TimelineContext, faults: FaultRecord[]): Promise<TimelineOutcome> {
  const responses: ResponseRecord[] = [];
  const results = await Promise.allSettled(faults.map((f) => playFault(ctx, f, responses)));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  return rejected ? { responses, failure: { error: rejected.reason } } : { responses };
}

/** One fault: wait for its time, inject it, hold it, undo it; its responses run when it is detected or undone, into `responses`. */
async function playFault(ctx: TimelineContext, f: FaultRecord, responses: ResponseRecord[]): Promise<void> {
  const pending: Promise<void>[] = [];
  try {
    await until(ctx.faultsFrom + f.atMs, ctx.signal);
    await inject(ctx, f);
    pending.push(...respond(ctx, f, 'detected', responses));
    await until(f.forMs === undefined ? ctx.loadEnd : f.injectedAt! + f.forMs, ctx.signal);
  } finally {
    await undo(ctx, f);
    pending.push(...respond(ctx, f, 'undo', responses));
    await Promise.all(pending);
  }
}

/** Injects the fault (intent first): from the intent on, the fault may be in place, so `injectedAt` is set and it is undone whatever happens. */
export async function inject(ctx: TimelineContext, f: FaultRecord): Promise<void> {
  await assertStillPrimary(ctx, f);
  f.lostPrimary = writablePrimaryAmong(ctx.latest(), f.hosts);
  const injected = await journaled(ctx.journal, `fault/${f.id}`, { kind: 'action', fault: f }, () => {
    f.injectedAt = Date.now();
    return ctx.env.faults.inject(f);
  }, { failed: (err) => ({ error: (f.error = (err as Error).message) }) });
  if (!injected.ok) throw new Error(`could not inject ${f.type} ${f.label}: ${f.error}`);
  ctx.progress(`  ${clock(f.injectedAt! - ctx.faultsFrom)} fault: ${f.type} ${f.label} (${f.hosts.join(', ')})`);
}

/**
 * A fault that targets a tier's live primary still takes it: the primary was
 * looked up before the warm-up, and a failover since then would make the
 * fault miss it (and the checks of a primary's loss would not apply).
 */
async function assertStillPrimary(ctx: TimelineContext, f: FaultRecord): Promise<void> {
  if (f.livePrimaryOf === undefined) return;
  const now = (await livePrimaries(ctx.env.inventory, [f.livePrimaryOf], ctx.env.probes))[f.livePrimaryOf];
  if ('host' in now && f.hosts.includes(now.host)) return;
  const moved = 'host' in now ? `is now ${now.host}` : `is not known (${now.unknown})`;
  throw new GamedayError('PRIMARY_MOVED', `the live primary of ${f.livePrimaryOf} ${moved}; it was ${f.hosts.join(', ')} when the run started, so ${f.type} would miss it: nothing was injected`, `fault ${f.id}`, 'let the fleet settle and run the game day again');
}

/** Undoes a fault that was injected and not undone yet; throws when the undo failed ("gameday chaos abort" tries again). */
export async function undo(ctx: Pick<TimelineContext, 'env' | 'journal' | 'runId' | 'faultsFrom' | 'progress'>, f: FaultRecord): Promise<void> {
  if (f.injectedAt === undefined || f.undoneAt !== undefined) return;
  const undone = await journaled(ctx.journal, `undo/${f.id}`, { kind: 'action' }, async () => {
    f.undoStartedAt ??= Date.now();
    const detail = await ctx.env.faults.undo(f);
    f.undoneAt = Date.now();
    return detail;
  });
  if (!undone.ok) {
    ctx.progress(`  UNDO FAILED for ${f.type} ${f.label}: ${(undone.error as Error).message}; "gameday chaos abort ${ctx.runId}" tries again`);
    throw undone.error;
  }
  ctx.progress(`  ${clock(f.undoneAt! - ctx.faultsFrom)} undone: ${f.type} ${f.label}`);
}

/** The scenario's responses to `f` on `on`, each started once its moment comes (and its delay passed), each recorded into `responses` as it starts. */
export function respond(ctx: TimelineContext, f: FaultRecord, on: 'detected' | 'undo', responses: ResponseRecord[]): Promise<void>[] {
  return ctx.responses
    .filter((r) => r.after === f.id && r.on === on)
    .map(async (r) => {
      if (on === 'detected') {
        // A response to the primary's loss starts once the primary is seen lost, as its page would fire: not after the
        // slowest other host of the rack has left its pools too (an app's web pool took 2.5 s, and every write waited).
        const watched = Object.values(r.params).includes(LOST_PRIMARY) && f.lostPrimary ? [f.lostPrimary] : f.hosts;
        while (!faultDetected(ctx.env.inventory, f, ctx.latest(), watched) && !ctx.signal.aborted && Date.now() < ctx.loadEnd) await sleep(100);
      }
      if (ctx.signal.aborted) return;
      await sleep(r.delay, undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) return;
      const params = withLostPrimary(r.params, f.lostPrimary);
      if (!params) {
        responses.push({ runbook: r.runbook, after: f.id, startedAt: Date.now(), endedAt: Date.now(), state: 'skipped', error: 'the fault took down no MariaDB primary' });
        ctx.journal.write(`response/${r.runbook}/${f.id}`, 'note', { type: 'skipped', reason: 'the fault took down no MariaDB primary' });
        ctx.progress(`  response ${r.runbook} skipped: ${f.label} took down no MariaDB primary`);
        return;
      }
      const rec: ResponseRecord = { runbook: r.runbook, after: f.id, startedAt: Date.now(), state: 'running' };
      responses.push(rec);
      await runResponse(ctx, rec, params);
    });
}

/** Runs one response as a nested run (intent first) and fills in its record: when it ended, its state, its run id or error. */
async function runResponse(ctx: TimelineContext, rec: ResponseRecord, params: Record<string, string | number | boolean>): Promise<void> {
  ctx.progress(`  ${clock(rec.startedAt - ctx.faultsFrom)} response: runbook ${rec.runbook} ${JSON.stringify(params)}`);
  await journaled(ctx.journal, `response/${rec.runbook}/${rec.after}`, { kind: 'action', params }, async () => {
    const out = await ctx.env.runResponse(rec.runbook, params, ctx.runId, ctx.signal);
    Object.assign(rec, { endedAt: Date.now(), state: out.state, runId: out.runId, error: out.error });
    return out;
  }, {
    ended: (out) => ({ event: out.state === 'succeeded' ? 'succeeded' : 'failed', data: { runId: out.runId, state: out.state, error: out.error } }),
    failed: (err) => {
      Object.assign(rec, { endedAt: Date.now(), state: 'failed', error: (err as Error).message });
      return { error: (err as Error).message };
    },
  });
  ctx.progress(`  ${clock(rec.endedAt! - ctx.faultsFrom)} response ${rec.runbook}: ${rec.state}${rec.error ? ` (${rec.error})` : ''}`);
}

/** The fault shows in the probes: every pool server it took (of `watched`) is out of traffic on every live proxy that answered (at once for a fault on no pool server). */
export function faultDetected(inv: Inventory, f: ResolvedFault, sample: FleetSample | undefined, watched: readonly string[] = f.hosts): boolean {
  const memberships = watched.flatMap((h) => poolsOf(inv, h).map((m) => ({ host: h, ...m })));
  if (memberships.length === 0) return true;
  if (!sample) return false;
  return memberships.every((m) => m.proxies.filter((p) => !f.hosts.includes(p)).every((p) => sample.proxies[p] != null && !takesTraffic(sample.proxies[p]![`${m.backend}/${m.host}`])));
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
