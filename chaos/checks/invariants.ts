import { takesTraffic, type FleetSample } from '../probes/fleetSampler.js';
import { coverageOf, iso, poweredOffAt, result, seconds, type GameDayRecord, type CheckResult } from '../record.js';
import type { RedisPrimarySample } from '../probes/redisPrimaries.js';

/** The Redis probes' interval when a record does not say. */
const REDIS_INTERVAL_MS = 100;

/** How long a replica past its lag limit may still take reads: HAProxy's db_read checks every 250 ms and needs two failures. */
export const READ_POOL_DETECTION_MS = 500;

/** The writable primary of a sample: writable and replicating from no one (what stale reads are measured against). */
const writableDb = (s: FleetSample) => Object.entries(s.db).filter(([, d]) => d && !d.readOnly && !d.replicating).map(([name]) => name);
/** Every server that takes writes: read_only off, replicating or not (a replica with read_only off takes any write sent to it). */
const dbWriters = (s: FleetSample) => Object.entries(s.db).filter(([, d]) => d && !d.readOnly).map(([name]) => name);

/** Servers of a sample that did not answer and that no power-off held down: unknown, so the sample proves nothing about them. */
const unknownDb = (rec: GameDayRecord, s: FleetSample) => Object.entries(s.db).filter(([name, d]) => d === null && !poweredOffAt(rec, s.at).has(name)).map(([name]) => name);
const unknownRedis = (rec: GameDayRecord, s: RedisPrimarySample) => (s.unknown ?? []).filter((name) => !poweredOffAt(rec, s.at).has(name));

/**
 * Never two MariaDB servers that take writes (read_only off, replicating or
 * not), and never two Redis masters that both take writes, at any sample. A
 * server that does not answer (and no power-off holds down) is unknown, and
 * a sample with an unknown server counts against the coverage.
 */
export function oneWritablePrimary(rec: GameDayRecord): CheckResult {
  const dbSplit = rec.fleet.filter((s) => dbWriters(s).length > 1);
  const redisSplit = rec.redis.filter((s) => s.writable.length > 1);
  const passed = dbSplit.length === 0 && redisSplit.length === 0;
  const db = coverageOf(rec.fleet, (s) => unknownDb(rec, s).length === 0, rec.loadStartedAt, rec.loadEndedAt, rec.fleetIntervalMs, 'MariaDB samples with every live server answering');
  const redis = coverageOf(rec.redis, (s) => unknownRedis(rec, s).length === 0, rec.loadStartedAt, rec.loadEndedAt, rec.redisIntervalMs ?? REDIS_INTERVAL_MS, 'Redis samples with every live server answering');
  const hasRedis = rec.inventory.hosts.some((h) => 'redis' in h.services);
  const ratio = (c: { got: number; needed: number }) => c.got / c.needed;
  const dbComplete = rec.fleet.filter((s) => unknownDb(rec, s).length === 0).length;
  const redisComplete = rec.redis.filter((s) => unknownRedis(rec, s).length === 0).length;
  const coverage = hasRedis && ratio(redis) < ratio(db) ? redis : db;
  const parts = [
    dbSplit.length ? `MariaDB: ${dbSplit.length} samples with two servers taking writes, first at ${iso(dbSplit[0].at)} (${dbWriters(dbSplit[0]).join(', ')})` : `MariaDB: one server taking writes at most in all ${dbComplete} samples where every live server answered`,
    redisSplit.length ? `Redis: ${redisSplit.length} samples with two writable primaries, first at ${iso(redisSplit[0].at)} (${redisSplit[0].writable.join(', ')})` : `Redis: one writable primary at most in all ${redisComplete} samples where every live server answered`,
  ];
  return result('one-writable-primary', 'never two writable primaries (MariaDB, Redis)', passed, parts.join('; '), { dbSamples: rec.fleet.length, dbCompleteSamples: dbComplete, dbSplitSamples: dbSplit.length, redisSamples: rec.redis.length, redisCompleteSamples: redisComplete, redisSplitSamples: redisSplit.length }, rec.loadEndedAt, coverage);
}

/**
 * No stale read: a replica whose heartbeat lag is over `maxLagMs` while a
 * writable primary is alive (so the lag is real) takes no read traffic on
 * any proxy. The slack is HAProxy's time to take a replica out once it is
 * past the limit (READ_POOL_DETECTION_MS, 500 ms: two failed db_read checks
 * 250 ms apart), or one sampling interval if the samples are further apart:
 * a replica counts as a stale read only while its lag is over `maxLagMs`
 * plus that slack and a proxy still gives it traffic.
 */
export function noStaleReads(rec: GameDayRecord, maxLagMs: number): CheckResult | undefined {
  const readPools = rec.inventory.pools.filter((p) => /read/i.test(p.name) && p.servers.some((s) => rec.inventory.hosts.find((h) => h.name === s && 'mysql' in h.services)));
  if (readPools.length === 0) return undefined;
  const violations: Array<{ at: number; host: string; lagMs: number; proxy: string }> = [];
  let staleSamples = 0;
  let primary: { name: string; since: number } | undefined;
  const replicasOfReadPools = [...new Set(readPools.flatMap((p) => p.servers))].filter((h) => rec.inventory.hosts.some((x) => x.name === h && 'mysql' in x.services));
  for (const s of rec.fleet) {

    const writable = writableDb(s);
    if (writable.length === 0) continue; // no primary: nothing newer exists to be stale against
    if (primary?.name !== writable[0]) primary = { name: writable[0], since: s.at };
    for (const [host, d] of Object.entries(s.db)) {
      // A replica cannot miss more than what the current primary wrote since it took writes
      // (just after a failover, the heartbeat it holds is the lost primary's last one).
      const lagMs = d?.lagMs == null ? null : Math.min(d.lagMs, s.at - primary.since);
      if (!d || !d.replicating || lagMs === null || lagMs <= maxLagMs) continue;
      staleSamples += 1;
      // Lag grows while the health agent and HAProxy take the replica out: up to two 250 ms checks of db_read.
      if (lagMs <= maxLagMs + Math.max(rec.fleetIntervalMs, READ_POOL_DETECTION_MS)) continue;
      for (const pool of readPools.filter((p) => p.servers.includes(host))) {
        for (const proxy of pool.proxies) {
          if (takesTraffic(s.proxies[proxy]?.[`${pool.backend ?? pool.name}/${host}`])) violations.push({ at: s.at, host, lagMs, proxy });
        }
      }
    }
  }
  const first = violations[0];
  const spanMs = violations.length ? violations.at(-1)!.at - first.at + rec.fleetIntervalMs : 0;
  const detail = violations.length
    ? `${first.host} stayed in the read pool on ${first.proxy} with ${Math.round(first.lagMs)} ms of lag (limit ${maxLagMs} ms) from ${iso(first.at)}, for about ${seconds(spanMs)}`
    : staleSamples
      ? `replicas lagged past ${maxLagMs} ms in ${staleSamples} samples and were out of the read pools each time`
      : `no replica lagged past ${maxLagMs} ms`;
  // A sample sees the replicas when each one the power did not take answered with its lag (or is no replica now).
  const seesReplicas = (s: FleetSample) => {
    const down = poweredOffAt(rec, s.at);
    return replicasOfReadPools.every((h) => down.has(h) || (s.db[h] != null && (!s.db[h]!.replicating || s.db[h]!.lagMs !== null)));
  };
  const coverage = coverageOf(rec.fleet, seesReplicas, rec.loadStartedAt, rec.loadEndedAt, rec.fleetIntervalMs, 'fleet samples with every live replica\'s lag');
  return result('no-stale-reads', 'no read from a replica past its lag limit', violations.length === 0, detail, { maxLagMs, staleSamples, violations: violations.length, staleInPoolMs: spanMs }, rec.loadEndedAt, coverage);
}
