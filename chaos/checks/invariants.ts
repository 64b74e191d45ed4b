import { takesTraffic, type FleetSample } from '../probes/fleetSampler.js';
import { iso, result, seconds, type GameDayRecord, type CheckResult } from '../record.js';

/** How long a replica past its lag limit may still take reads: HAProxy's db_read checks every 250 ms and needs two failures. */
export const READ_POOL_DETECTION_MS = 500;

const writableDb = (s: FleetSample) => Object.entries(s.db).filter(([, d]) => d && !d.readOnly && !d.replicating).map(([name]) => name);

/** Never two writable MariaDB primaries, and never two Redis primaries that both take writes, at any sample. */
export function oneWritablePrimary(rec: GameDayRecord): CheckResult {
  const dbSplit = rec.fleet.filter((s) => writableDb(s).length > 1);
  const redisSplit = rec.redis.filter((s) => s.writable.length > 1);
  const passed = dbSplit.length === 0 && redisSplit.length === 0;
  const parts = [
    dbSplit.length ? `MariaDB: ${dbSplit.length} samples with two writable primaries, first at ${iso(dbSplit[0].at)} (${writableDb(dbSplit[0]).join(', ')})` : `MariaDB: one writable primary at most in all ${rec.fleet.length} samples`,
    redisSplit.length ? `Redis: ${redisSplit.length} samples with two writable primaries, first at ${iso(redisSplit[0].at)} (${redisSplit[0].writable.join(', ')})` : `Redis: one writable primary at most in all ${rec.redis.length} samples`,
  ];
  return result('one-writable-primary', 'never two writable primaries (MariaDB, Redis)', passed, parts.join('; '), { dbSamples: rec.fleet.length, dbSplitSamples: dbSplit.length, redisSamples: rec.redis.length, redisSplitSamples: redisSplit.length }, rec.loadEndedAt);
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
  return result('no-stale-reads', 'no read from a replica past its lag limit', violations.length === 0, detail, { maxLagMs, staleSamples, violations: violations.length, staleInPoolMs: spanMs }, rec.loadEndedAt);
}
