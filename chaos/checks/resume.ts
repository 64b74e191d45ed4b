import type { RequestKind } from '../load/targets.js';
import { endOf, faultEndOf, nextChangeAfter, result, seconds, type Coverage, type GameDayRecord, type CheckResult } from '../record.js';

/**
 * After each fault, requests of these kinds work again within `withinMs`:
 * recovered at the first success after the last failure that started before
 * the world changed again (the next fault or undo).
 */
function resumes(rec: GameDayRecord, kinds: RequestKind[], id: string, title: string, withinMs: number): CheckResult | undefined {
  const faults = rec.faults.filter((f) => f.injectedAt !== undefined);
  if (faults.length === 0) return undefined;
  let worst = 0;
  let worstFault = faults[0];
  let never = false;
  let failedTotal = 0;
  let onlyWithUndo = false;
  // Coverage: the seconds of each fault's window in which a request of these kinds was sent at all.
  const coverage: Coverage = { needed: 0, got: 0, of: `seconds with a ${kinds.join(' or ')} request` };
  for (const f of faults) {
    const from = f.injectedAt!;
    const until = nextChangeAfter(rec, from);
    const mine = rec.requests.filter((r) => kinds.includes(r.kind) && r.at >= from && r.at < until);
    coverage.needed += Math.max(1, Math.floor((until - from) / 1000));
    coverage.got += new Set(mine.map((r) => Math.floor((r.at - from) / 1000))).size;
    const failed = mine.filter((r) => !r.ok);
    failedTotal += failed.length;
    if (failed.length === 0) continue;
    const lastFailure = Math.max(...failed.map((r) => r.at));
    const recovered = rec.requests.find((r) => kinds.includes(r.kind) && r.ok && r.at > lastFailure);
    const ms = recovered ? endOf(recovered) - from : Infinity;
    if (!recovered) never = true;
    // Back only once the fault was undone is no recovery: the undo gave the service back, not the failover.
    const end = faultEndOf(f);
    if (recovered && end !== undefined && end < rec.loadEndedAt && endOf(recovered) >= end) onlyWithUndo = true;
    if (ms > worst) {
      worst = ms;
      worstFault = f;
    }
  }
  const passed = !never && !onlyWithUndo && worst <= withinMs;
  const what = kinds.includes('read') ? 'reads' : 'writes';
  const detail = never
    ? `${what} did not recover within the run after ${worstFault.label}`
    : onlyWithUndo
      ? `${what} came back only once ${worstFault.label} was undone (${seconds(worst)} after it): nothing took over while it lasted`
    : failedTotal === 0
      ? `no ${what} failed`
      : `${what} back ${seconds(worst)} after ${worstFault.label} (limit ${seconds(withinMs)}); ${failedTotal} failed meanwhile`;
  return result(id, title, passed, detail, { recoveredMs: never ? null : worst, limitMs: withinMs, failed: failedTotal }, rec.loadEndedAt, coverage);
}

export function writesResume(rec: GameDayRecord, withinMs: number): CheckResult | undefined {
  return resumes(rec, ['create', 'mark-read'], 'writes-resume', 'writes resume after the fault', withinMs);
}

export function readsResume(rec: GameDayRecord, withinMs: number): CheckResult | undefined {
  return resumes(rec, ['read'], 'reads-resume', 'reads resume after the fault', withinMs);
}
