import type { Inventory } from '../topology/index.js';
import type { ResolvedFault } from '../drivers/faults/types.js';
import type { LoopSample } from './load/loop.js';
import type { FleetSample } from './probes/fleetSampler.js';
import type { RedisPrimarySample } from './probes/redisPrimaries.js';
import type { AppStatsSample } from './probes/appStats.js';
import type { ReadMarkerRecord } from './probes/readMarkers.js';
import type { AckedWritesCheck } from './load/ackedWrites.js';

/** A fault as it happened: when it was injected and undone (epoch ms). */
export interface FaultRecord extends ResolvedFault {
  injectedAt?: number;
  /** The writable MariaDB primary among the fault's hosts when it was injected. */
  lostPrimary?: string;
  /** When its undo began: the power (or the process, or the link) is back from here on, though the undo may still wait for its slowest host. */
  undoStartedAt?: number;
  /** When its undo returned. */
  undoneAt?: number;
  error?: string;
}

export interface ResponseRecord {
  runbook: string;
  after: string;
  startedAt: number;
  endedAt?: number;
  state: string;
  runId?: string;
  error?: string;
}

export type CheckStatus = 'held' | 'failed' | 'inconclusive';

/** What a check sampled: `got` of the `needed` samples of `of` over its window. */
export interface Coverage {
  needed: number;
  got: number;
  of: string;
}

/** Below this share of the samples it needed, a check that saw no violation is inconclusive, never held. */
export const MIN_COVERAGE = 0.8;

/** A check the scenario asks for that does not apply to this run, and why (decided from the plan: the faults' hosts and their roles before injection). */
export interface NotApplicable {
  id: string;
  why: string;
}

/** One check's verdict: what the checks return and the report lists. */
export interface CheckResult {
  /** Stable id, e.g. "dead-servers-leave-pools". */
  id: string;
  /** What it asserts, in words. */
  title: string;
  /**
   * held: it observed its invariant hold over enough of its window; failed:
   * it observed it broken; inconclusive: it saw too little to say (under
   * MIN_COVERAGE of the samples it needed), which fails the game day too
   * unless the scenario marks the check optional.
   */
  status: CheckStatus;
  /** status === 'held'. */
  passed: boolean;
  /** The samples it needed over its window, and how many it got. */
  coverage?: Coverage;
  /** The scenario marked it optional: an inconclusive result does not fail the game day. */
  optional?: boolean;
  /** What it measured, in words: "db-2 left db-read on proxy-1 after 2.1 s (limit 5 s)". */
  detail: string;
  /** Named figures, in ms where a time: detectedMs, failedOverMs, recoveredMs, limitMs, ... */
  measured: Record<string, number | string | null>;
  /** When the check reached its verdict. */
  at: string;
}

/** Everything a game day measured: the checks are pure functions of it. */
export interface GameDayRecord {
  inventory: Inventory;
  loadStartedAt: number;
  /** End of the warm-up: faults' `at` counts from here. */
  faultsFrom: number;
  loadEndedAt: number;
  faults: FaultRecord[];
  responses: ResponseRecord[];
  requests: LoopSample[];
  fleet: FleetSample[];
  redis: RedisPrimarySample[];
  fleetIntervalMs: number;
  /** Each app instance's Redis write counters, every half second (none when not sampled). */
  apps?: AppStatsSample[];
  /** How often the Redis probes sampled (100 ms when not given). */
  redisIntervalMs?: number;
  /** The read-marker probe's writes and reads (no-stale-reads); absent when it could not run. */
  markers?: ReadMarkerRecord;
  /** The acknowledged writes looked up at the end; an error text when the stores could not be read. */
  ackedWrites?: AckedWritesCheck | { error: string };
}

export const iso = (t: number) => new Date(t).toISOString();
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * A check's result. `passed` says whether what it saw held; with a coverage,
 * what it saw is enough only from MIN_COVERAGE of the samples it needed on:
 * below that a pass is inconclusive (an observed violation still fails).
 */
export function result(id: string, title: string, passed: boolean, detail: string, measured: CheckResult['measured'], at: number, coverage?: Coverage): CheckResult {
  const thin = coverage !== undefined && coverage.got < MIN_COVERAGE * coverage.needed;
  const status: CheckStatus = !passed ? 'failed' : thin ? 'inconclusive' : 'held';
  const seen = coverage && thin ? `saw ${coverage.got} of the ${coverage.needed} ${coverage.of} it needed (${percentOf(coverage)}, under ${MIN_COVERAGE * 100} %); ` : '';
  return { id, title, status, passed: status === 'held', detail: `${seen}${detail}`, measured, at: iso(at), ...(coverage ? { coverage } : {}) };
}

/** A check that could not be judged at all: never a pass. */
export function inconclusive(id: string, title: string, why: string, at: number, coverage?: Coverage): CheckResult {
  return { id, title, status: 'inconclusive', passed: false, detail: why, measured: {}, at: iso(at), ...(coverage ? { coverage } : {}) };
}

export const percentOf = (c: Coverage) => `${c.needed ? Math.floor((c.got / c.needed) * 100) : 0} %`;

/**
 * How much of [from, to] complete samples saw, in sampling intervals: each
 * complete sample covers the time until the next sample (at most three
 * intervals), so a sampler that runs a little late loses nothing, and a
 * sample in which a server did not answer covers nothing.
 */
export function coverageOf<S extends { at: number }>(samples: S[], complete: (s: S) => boolean, from: number, to: number, intervalMs: number, of: string): Coverage {
  const inWindow = samples.filter((s) => s.at >= from && s.at <= to);
  let coveredMs = 0;
  inWindow.forEach((s, i) => {
    if (!complete(s)) return;
    const next = inWindow[i + 1]?.at ?? to;
    coveredMs += Math.max(0, Math.min(next, s.at + 3 * intervalMs, to) - s.at);
  });
  const needed = samplesNeeded(to - from, intervalMs);
  // The last sample of a window covers its own interval too.
  return { needed, got: Math.min(needed, Math.round(coveredMs / intervalMs) + (inWindow.length && complete(inWindow.at(-1)!) ? 1 : 0)), of };
}

/** Samples a window of `ms` needs at one every `intervalMs` (at least one). */
export const samplesNeeded = (ms: number, intervalMs: number) => Math.max(1, Math.floor(ms / intervalMs));

/** Hosts a power-off fault held down at `t`: known not to take writes or traffic, not unknown. */
export function poweredOffAt(rec: GameDayRecord, t: number): Set<string> {
  const down = new Set<string>();
  for (const f of rec.faults) {
    if (f.type !== 'power-off' || f.injectedAt === undefined || t < f.injectedAt) continue;
    const end = faultEndOf(f);
    if (end === undefined || t < end) for (const h of f.hosts) down.add(h);
  }
  return down;
}

/** When the request ended. */
export const endOf = (s: LoopSample) => s.at + s.ms;

/** Pool memberships of a host: backend names and proxies (by name). */
export function poolsOf(inv: Inventory, host: string): Array<{ pool: string; backend: string; proxies: string[] }> {
  return inv.pools.filter((p) => p.servers.includes(host)).map((p) => ({ pool: p.name, backend: p.backend ?? p.name, proxies: p.proxies }));
}

/** When a fault stopped acting on the fleet: the start of its undo (not its end: an undo that waits for its slowest host has already brought the others back). */
export function faultEndOf(f: FaultRecord): number | undefined {
  return f.undoStartedAt ?? f.undoneAt;
}

/** The next fault or undo after `t` (when the world changes again), or the end of the load. */
export function nextChangeAfter(rec: GameDayRecord, t: number): number {
  const times = rec.faults.flatMap((f) => [f.injectedAt, faultEndOf(f)]).filter((x): x is number => x !== undefined && x > t);
  return Math.min(rec.loadEndedAt, ...times);
}
