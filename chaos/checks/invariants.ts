import type { FleetSample } from '../probes/fleetSampler.js';
import { mariadbReadPools, type MarkerSample } from '../probes/readMarkers.js';
import { coverageOf, inconclusive, iso, poweredOffAt, result, seconds, type GameDayRecord, type CheckResult } from '../record.js';
import type { RedisPrimarySample } from '../probes/redisPrimaries.js';

/** The Redis probes' interval when a record does not say. */
const REDIS_INTERVAL_MS = 100;

/**
 * How long a replica past its lag limit may still take reads, by default:
 * the lab's db_read checks every 250 ms and needs two failures, each agent
 * answer taking up to 300 ms, so about 0.8 s at worst. A fleet with other
 * check timings sets the scenario's `noStaleReads.detection`.
 */
export const READ_POOL_DETECTION_MS = 1000;

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
 * No stale read, as observed by the read-marker probe: every read through a
 * proxy's read pool must return a marker at least as new as the newest one
 * the write pool acknowledged `maxLagMs` (the pool's lag limit) plus
 * `detectionMs` (the read pool's time to take a replica out) before the
 * read began. Markers the writable primary no longer holds at the end were
 * lost with a primary (no-lost-writes judges that), so they do not count:
 * a replica cannot be behind data that no longer exists.
 */
export function noStaleReads(rec: GameDayRecord, maxLagMs: number, detectionMs = READ_POOL_DETECTION_MS): CheckResult | undefined {
  const id = 'no-stale-reads';
  const title = 'no read from a replica past its lag limit';
  if (mariadbReadPools(rec.inventory).length === 0) return undefined;
  const m = rec.markers;
  if (!m) return inconclusive(id, title, 'no read-marker probe ran (no proxy with mysql-write and mysql-read frontends, or no way to log in through them): no read was observed', rec.loadEndedAt);
  if (m.survived === null) return inconclusive(id, title, `the markers could not be read back from the writable primary (${m.error ?? 'no answer'}), so no read can be judged`, rec.loadEndedAt);
  const survived = new Set(m.survived);
  const kept = m.writes.filter((w) => w.ackedAt !== undefined && survived.has(w.seq)).sort((a, b) => a.ackedAt! - b.ackedAt!);
  if (kept.length === 0) return inconclusive(id, title, `no marker was acknowledged through the write pool and kept${m.error ? ` (${m.error})` : ''}, so no read can be judged`, rec.loadEndedAt);
  const slackMs = maxLagMs + Math.max(m.intervalMs, detectionMs);
  // The newest kept marker acknowledged at or before t: a running maximum over ack times, found by binary search.
  const runningMax: number[] = [];
  kept.forEach((w, i) => (runningMax[i] = Math.max(w.seq, runningMax[i - 1] ?? 0)));
  const expectedBy = (t: number) => {
    let lo = 0;
    let hi = kept.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid].ackedAt! <= t) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at < 0 ? 0 : runningMax[at];
  };
  const stale: Array<{ at: number; proxy: string; server: string; seq: number; expected: number }> = [];
  let reads = 0;
  for (const s of m.samples) {
    for (const [proxy, r] of Object.entries(s.reads)) {
      if (r.outcome !== 'read') continue;
      reads += 1;
      const expected = expectedBy(s.at - slackMs);
      if (r.seq < expected) stale.push({ at: s.at, proxy, server: r.server, seq: r.seq, expected });
    }
  }
  if (reads === 0) return inconclusive(id, title, `no read through the read pools answered with a marker${m.error ? ` (${m.error})` : ''}: no read was observed`, rec.loadEndedAt);
  const servers = [...new Set(stale.map((x) => x.server))];
  const first = stale[0];
  const ackOf = (seq: number) => kept.find((w) => w.seq === seq)!.ackedAt!;
  const detail = first
    ? `${stale.length} of ${reads} reads through the read pools were stale, from ${servers.join(', ')}; the first at ${iso(first.at)} through ${first.proxy}: ${first.server} returned marker ${first.seq} when marker ${first.expected} had been acknowledged ${seconds(first.at - ackOf(first.expected))} before (limit ${maxLagMs} ms)`
    : `all ${reads} reads through the read pools returned a marker no older than the lag limit (${maxLagMs} ms) allows`;
  // A round saw the read pools when every proxy that the power did not take answered: with a marker, or that it has no server.
  const seesPools = (s: MarkerSample) => {
    const down = poweredOffAt(rec, s.at);
    return Object.entries(s.reads).every(([proxy, r]) => r.outcome !== 'unknown' || down.has(proxy));
  };
  const coverage = coverageOf(m.samples, seesPools, rec.loadStartedAt, rec.loadEndedAt, m.intervalMs, 'read-marker rounds with every live proxy answering');
  const lost = m.writes.filter((w) => w.ackedAt !== undefined && !survived.has(w.seq)).length;
  return result(id, title, stale.length === 0, detail, { maxLagMs, reads, staleReads: stale.length, markersKept: kept.length, markersLost: lost, staleServers: servers.join(', ') || null }, rec.loadEndedAt, coverage);
}
