import type { ChecksSpec } from '../scenario/schema.js';
import type { GameDayRecord, CheckResult } from '../record.js';
import { leavePools, redisFailover } from './failover.js';
import { readsResume, writesResume } from './resume.js';
import { noStaleReads, oneWritablePrimary } from './invariants.js';
import { errorBudget, noLostWrites } from './data.js';

export type { GameDayRecord, FaultRecord, ResponseRecord } from '../record.js';

/** A check's options, or its defaults when the scenario does not mention it; undefined when turned off. */
function opts<T>(value: T | false | undefined, defaults: T): T | undefined {
  if (value === false) return undefined;
  return { ...defaults, ...(value ?? {}) };
}

/** Every check the scenario asks for (all by default), in a fixed order; checks that do not apply to this run are left out. */
export function evaluateChecks(rec: GameDayRecord, spec: ChecksSpec): CheckResult[] {
  const out: Array<CheckResult | undefined> = [];
  const lp = opts(spec.leavePools, { within: 5000 });
  if (lp) out.push(leavePools(rec, lp.within));
  const rf = opts(spec.redisFailover, { within: 15_000 });
  if (rf) out.push(redisFailover(rec, rf.within));
  const wr = opts(spec.writesResume, { within: 5000 });
  if (wr) out.push(writesResume(rec, wr.within));
  const rr = opts(spec.readsResume, { within: 5000 });
  if (rr) out.push(readsResume(rec, rr.within));
  if (opts(spec.oneWritablePrimary, {})) out.push(oneWritablePrimary(rec));
  // The lab's read pools drop a replica past 3 s of lag (READ_POOL_MAX_LAG_MS): the check holds them to the same limit.
  const sr = opts(spec.noStaleReads, { maxLagMs: 3000 });
  if (sr) out.push(noStaleReads(rec, sr.maxLagMs));
  if (opts(spec.noLostWrites, {})) out.push(noLostWrites(rec));
  const eb = opts(spec.errorBudget, { maxFailedPercent: 0.1, maxP99Ms: 2000 });
  if (eb) out.push(errorBudget(rec, eb));
  return out.filter((c): c is CheckResult => c !== undefined);
}
