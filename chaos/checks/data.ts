import { endOf, inconclusive, result, seconds, type GameDayRecord, type CheckResult } from '../record.js';

/**
 * No acknowledged write lost: every create the load got a 201 for is in
 * MariaDB at the end, every acknowledged mark-read is read there; Redis
 * must agree unless the scenario destroyed its data on purpose.
 */
export function noLostWrites(rec: GameDayRecord): CheckResult {
  const c = rec.ackedWrites;
  if (!c) return inconclusive('no-lost-writes', 'no acknowledged write lost', 'the stores were not checked', rec.loadEndedAt);
  if ('error' in c) return inconclusive('no-lost-writes', 'no acknowledged write lost', `could not read the stores at the end: ${c.error}`, rec.loadEndedAt);
  if (c.created + c.markedRead === 0) return inconclusive('no-lost-writes', 'no acknowledged write lost', 'no write was acknowledged during the run: there was nothing to lose, so nothing was shown kept', rec.loadEndedAt);
  const lostDb = c.createsLostInDb.length + c.readsLostInDb.length;
  const lostRedis = c.createsLostInRedis.length + c.readsLostInRedis.length;
  const redisLossExpected = rec.faults.some((f) => f.type === 'redis-data-loss');
  const passed = lostDb === 0 && (lostRedis === 0 || redisLossExpected);
  const head = `${c.created} acknowledged creates and ${c.markedRead} mark-reads`;
  const detail = lostDb + lostRedis === 0
    ? `${head}: every one in MariaDB and in Redis`
    : `${head}: MariaDB lacks ${c.createsLostInDb.length} creates and ${c.readsLostInDb.length} reads; Redis diverges on ${c.createsLostInRedis.length} creates and ${c.readsLostInRedis.length} reads${redisLossExpected ? ' (Redis data was destroyed on purpose: rebuild it with gameday warmup redis rebuild)' : ''}`;
  return result('no-lost-writes', 'no acknowledged write lost', passed, detail, { created: c.created, markedRead: c.markedRead, lostInDb: lostDb, divergentInRedis: lostRedis }, rec.loadEndedAt);
}

/** The run's error budget: failed requests, p99 latency, and optionally the error window. */
export function errorBudget(rec: GameDayRecord, b: { maxFailedPercent: number; maxP99Ms: number; maxErrorWindow?: number }): CheckResult {
  const all = rec.requests.filter((r) => r.at >= rec.faultsFrom);
  if (all.length === 0) return inconclusive('error-budget', 'the error budget holds (failed requests, p99, error window)', 'no request was sent after the warm-up', rec.loadEndedAt);
  const failed = all.filter((r) => !r.ok);
  const pct = all.length ? (failed.length / all.length) * 100 : 0;
  const sorted = all.map((r) => r.ms).sort((x, y) => x - y);
  const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)] : 0;
  const windowMs = failed.length ? Math.max(...failed.map(endOf)) - Math.min(...failed.map((r) => r.at)) : 0;
  const problems = [
    pct > b.maxFailedPercent && `${pct.toFixed(2)} % failed (budget ${b.maxFailedPercent} %)`,
    p99 > b.maxP99Ms && `p99 ${p99} ms (budget ${b.maxP99Ms} ms)`,
    b.maxErrorWindow !== undefined && windowMs > b.maxErrorWindow && `error window ${seconds(windowMs)} (budget ${seconds(b.maxErrorWindow)})`,
  ].filter(Boolean);
  const detail = problems.length
    ? `over budget: ${problems.join(', ')}`
    : `${failed.length} of ${all.length} failed (${pct.toFixed(2)} %, budget ${b.maxFailedPercent} %), p99 ${p99} ms (budget ${b.maxP99Ms} ms), error window ${seconds(windowMs)}`;
  return result('error-budget', 'the error budget holds (failed requests, p99, error window)', problems.length === 0, detail, { failed: failed.length, requests: all.length, failedPercent: Math.round(pct * 1000) / 1000, p99Ms: p99, errorWindowMs: windowMs, limitP99Ms: b.maxP99Ms, limitFailedPercent: b.maxFailedPercent }, rec.loadEndedAt);
}
