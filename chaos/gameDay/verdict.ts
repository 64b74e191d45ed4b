import type { LoopSample } from '../load/loop.js';
import type { FleetSample } from '../probes/fleetSampler.js';
import type { CheckResult } from '../record.js';
import type { GameDayReport } from '../report/types.js';

export interface SteadyState {
  ok: boolean;
  detail: string;
}

/** The steady state before the warm-up has been judged. */
export const NOT_MEASURED: SteadyState = { ok: false, detail: 'not measured' };

/** How the live part of a game day (warm-up, faults, load) ended, before any check. */
export type LiveEnd =
  /** The load ran to its end: the checks decide. */
  | { kind: 'completed' }
  /** The steady state did not hold: nothing was injected. */
  | { kind: 'refused'; steady: SteadyState }
  /** Stopped by a signal, for `reason`. */
  | { kind: 'stopped'; reason: string }
  /** An error ended it (a fault that could not be injected or undone, a journal that took no more). */
  | { kind: 'failed'; error: unknown };

export interface Verdict {
  verdict: GameDayReport['verdict'];
  verdictReason: string;
}

/** Steady state: the warm-up's requests met the error budget, and the fleet had one writable MariaDB primary. */
export function steadyState(requests: LoopSample[], fleet: FleetSample | undefined): SteadyState {
  const failed = requests.filter((r) => !r.ok).length;
  if (requests.length === 0) return { ok: false, detail: 'no request answered during the warm-up' };
  if (failed > 0) return { ok: false, detail: `${failed} of ${requests.length} warm-up requests failed: the fleet is not healthy, no fault was injected` };
  if (!fleet) return { ok: false, detail: 'the fleet was not sampled before the first fault: no fault was injected' };
  const silent = Object.entries(fleet.db).filter(([, d]) => d === null).map(([name]) => name);
  if (silent.length) return { ok: false, detail: `${silent.join(', ')} did not answer before the first fault: whether one MariaDB server takes writes is unknown, no fault was injected` };
  // Every server with read_only off takes writes, replicating or not.
  const writers = Object.entries(fleet.db).filter(([, d]) => d && !d.readOnly).map(([name]) => name);
  if (writers.length !== 1) return { ok: false, detail: `${writers.length} MariaDB servers take writes before any fault${writers.length ? ` (${writers.join(', ')})` : ''}: no fault was injected` };
  if (fleet.db[writers[0]]!.replicating) return { ok: false, detail: `${writers[0]} takes writes while it replicates from another server: no fault was injected` };
  return { ok: true, detail: `${requests.length} warm-up requests, none failed; one writable MariaDB primary` };
}

/** The verdict and its reason: from how the live part ended, and, when it ran to its end, from the checks. */
export function verdictOf(end: LiveEnd, checks: CheckResult[]): Verdict {
  switch (end.kind) {
    case 'refused':
      return { verdict: 'refused', verdictReason: `steady state did not hold before the first fault: ${end.steady.detail}` };
    case 'stopped':
      return { verdict: 'aborted', verdictReason: `stopped: ${end.reason}; every fault was undone` };
    case 'failed':
      return { verdict: 'aborted', verdictReason: `the game day failed: ${(end.error as Error).message}` };
    case 'completed':
      return verdictOfChecks(checks);
  }
}

/**
 * A game day that ran to its end passes only when every check held, or was
 * inconclusive and marked optional; an inconclusive check fails it, with its
 * reason, as a failed one does. The reason counts held, failed and
 * inconclusive checks.
 */
export function verdictOfChecks(checks: CheckResult[]): Verdict {
  const held = checks.filter((c) => c.status === 'held');
  const failed = checks.filter((c) => c.status === 'failed');
  const unsure = checks.filter((c) => c.status === 'inconclusive');
  const blocking = unsure.filter((c) => !c.optional);
  const counts = `${held.length} held, ${failed.length} failed, ${unsure.length} inconclusive${unsure.length > blocking.length ? ` (${unsure.length - blocking.length} optional)` : ''}`;
  if (checks.length === 0) return { verdict: 'failed', verdictReason: 'no check ran: nothing was observed to hold' };
  if (failed.length || blocking.length) {
    const why = [...failed.map((c) => `${c.id} failed`), ...blocking.map((c) => `${c.id} inconclusive (${c.detail})`)];
    return { verdict: 'failed', verdictReason: `${counts}: ${why.join('; ')}` };
  }
  return { verdict: 'passed', verdictReason: `${counts}${held.length === checks.length ? `: all ${checks.length} checks held` : ''}` };
}

/** The run's end state in the journal's `finished` record, for a verdict. */
export function endState(verdict: GameDayReport['verdict']): 'succeeded' | 'stopped' | 'failed' {
  return verdict === 'passed' ? 'succeeded' : verdict === 'aborted' ? 'stopped' : 'failed';
}
