import type { ChecksSpec } from '../scenario/schema.js';
import type { GameDayRecord, CheckResult, NotApplicable } from '../record.js';
import { leavePools, redisFailover, type NotApplicableResult } from './failover.js';
import { readsResume, writesResume } from './resume.js';
import { noStaleReads, oneWritablePrimary } from './invariants.js';
import { errorBudget, noLostWrites } from './data.js';

export type { GameDayRecord, FaultRecord, ResponseRecord } from '../record.js';

/** A check's options, or its defaults when the scenario does not mention it; undefined when turned off. */
function opts<T>(value: T | false | undefined, defaults: T): T | undefined {
  if (value === false) return undefined;
  return { ...defaults, ...(value ?? {}) };
}

/** Why a check the scenario asks for returned nothing for this run. */
const NOT_APPLICABLE: Record<string, string> = {
  'dead-servers-leave-pools': 'no fault took down a server of a pool that a live proxy still serves',
  'writes-resume': 'no fault was injected',
  'reads-resume': 'no fault was injected',
  'no-stale-reads': 'no read pool of MariaDB replicas in the inventory',
};

/** What the checks found: their results, and the checks asked for that do not apply to this run, with why. */
export interface Evaluation {
  checks: CheckResult[];
  notApplicable: NotApplicable[];
}

/** Every check the scenario asks for (all by default), in a fixed order; the ones that do not apply are listed with why, never dropped in silence. */
export function evaluate(rec: GameDayRecord, spec: ChecksSpec): Evaluation {
  const checks: CheckResult[] = [];
  const notApplicable: NotApplicable[] = [];
  const add = (id: string, optional: boolean | undefined, r: CheckResult | NotApplicableResult | undefined) => {
    if (r === undefined) notApplicable.push({ id, why: NOT_APPLICABLE[id] ?? 'it does not apply to this run' });
    else if ('notApplicable' in r) notApplicable.push({ id, why: r.notApplicable });
    else checks.push(optional ? { ...r, optional: true } : r);
  };
  const lp = opts(spec.leavePools, { within: 5000 });
  if (lp) add('dead-servers-leave-pools', lp.optional, leavePools(rec, lp.within));
  const rf = opts(spec.redisFailover, { within: 15_000 });
  if (rf) add('redis-failover', rf.optional, redisFailover(rec, rf.within));
  const wr = opts(spec.writesResume, { within: 5000 });
  if (wr) add('writes-resume', wr.optional, writesResume(rec, wr.within));
  const rr = opts(spec.readsResume, { within: 5000 });
  if (rr) add('reads-resume', rr.optional, readsResume(rec, rr.within));
  const op = opts(spec.oneWritablePrimary, {} as { optional?: boolean });
  if (op) add('one-writable-primary', op.optional, oneWritablePrimary(rec));
  // The lab's read pools drop a replica past 3 s of lag (READ_POOL_MAX_LAG_MS): the check holds them to the same limit.
  const sr = opts(spec.noStaleReads, { maxLagMs: 3000, detection: 1000 });
  if (sr) add('no-stale-reads', sr.optional, noStaleReads(rec, sr.maxLagMs, sr.detection));
  const lw = opts(spec.noLostWrites, {} as { optional?: boolean });
  if (lw) add('no-lost-writes', lw.optional, noLostWrites(rec));
  const eb = opts(spec.errorBudget, { maxFailedPercent: 0.1, maxP99Ms: 2000 });
  if (eb) add('error-budget', eb.optional, errorBudget(rec, eb));
  return { checks, notApplicable };
}

/** The results of `evaluate`, alone. */
export function evaluateChecks(rec: GameDayRecord, spec: ChecksSpec): CheckResult[] {
  return evaluate(rec, spec).checks;
}
