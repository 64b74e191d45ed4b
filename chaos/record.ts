import type { Inventory } from '../topology/index.js';
import type { ResolvedFault } from '../drivers/faults/types.js';
import type { LoopSample } from './load/loop.js';
import type { FleetSample } from './probes/fleetSampler.js';
import type { RedisPrimarySample } from './probes/redisPrimaries.js';
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

/** One check's verdict: what the checks return and the report lists. */
export interface CheckResult {
  /** Stable id, e.g. "dead-servers-leave-pools". */
  id: string;
  /** What it asserts, in words. */
  title: string;
  passed: boolean;
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
  /** The acknowledged writes looked up at the end; an error text when the stores could not be read. */
  ackedWrites?: AckedWritesCheck | { error: string };
}

export const iso = (t: number) => new Date(t).toISOString();
export const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function result(id: string, title: string, passed: boolean, detail: string, measured: CheckResult['measured'], at: number): CheckResult {
  return { id, title, passed, detail, measured, at: iso(at) };
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
