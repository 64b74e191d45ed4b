import { describe, expect, it } from 'vitest';
import { preflight } from '../../../chaos/preflight.js';
import { assertPreflight, faultDetected, planGameDay } from '../../../chaos/gameDay/run.js';
import { listScenarios, loadScenario, parseScenario, type LoadedScenario } from '../../../chaos/scenario/load.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import type { FleetSample } from '../../../chaos/probes/fleetSampler.js';
import { labInventory } from '../../../lab/layout.js';
import { failureDomains } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';

const spread = labInventory(20);
const outage = labInventory(20, 'outage-2017');
const LOAD_MS = 30_000;

/** A power-off at `atMs` for `forMs` (null: until the end of the load). */
function powerOff(id: string, hosts: string[], atMs = 5000, forMs: number | null = 15_000): ResolvedFault {
  return { id, type: 'power-off', label: `host ${hosts.join(', ')}`, hosts, atMs, ...(forMs === null ? {} : { forMs }) };
}

function failure(fn: () => unknown): GamedayError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(GamedayError);
  return caught as GamedayError;
}

const scenario = (data: object, file = 'test.yaml'): LoadedScenario => ({ scenario: parseScenario({ name: 'test', description: 'test', ...data }, file), file });
const broken = (p: ReturnType<typeof preflight>) => p.faults.flatMap((f) => f.blastRadius.filter((b) => !b.ok).map((b) => b.what));

describe('pre-flight on the spread layout', () => {
  it('every rack and zone can be lost', () => {
    const domains = failureDomains(spread).filter((d) => d.kind !== 'host');
    expect(domains.map((d) => d.name)).toEqual(['az-a', 'az-b', 'az-c', 'az-a/a1', 'az-a/a2', 'az-b/b1', 'az-b/b2', 'az-c/c1', 'az-c/c2']);
    for (const d of domains) {
      const p = preflight(spread, [{ ...powerOff('loss', d.hosts), label: `${d.kind} ${d.name}` }], LOAD_MS, false);
      expect(broken(p), d.name).toEqual([]);
      expect(p.safe, d.name).toBe(true);
    }
  });

  it('every built-in scenario passes, and only replay-2017 expects to break', () => {
    for (const loaded of listScenarios()) {
      for (const k of [0, 1]) {
        const plan = planGameDay(spread, loaded, undefined, (n) => Math.min(k, n - 1));
        expect(plan.preflight.safe, loaded.scenario.name).toBe(true);
        expect(plan.preflight.expectBreaks, loaded.scenario.name).toBe(loaded.scenario.name === 'replay-2017');
        expect(() => assertPreflight(plan.preflight, loaded.file)).not.toThrow();
      }
    }
  });

  it('shows what a fault costs even when it holds', () => {
    const p = preflight(spread, [powerOff('loss', ['db-3', 'proxy-2'])], LOAD_MS, false);
    expect(p.faults).toHaveLength(1);
    expect(p.faults[0]).toMatchObject({ fault: 'loss: power-off', hosts: ['db-3', 'proxy-2'] });
    expect(p.faults[0].blastRadius).toEqual(
      expect.arrayContaining([
        { what: 'tier db', left: 2, needed: 2, ok: true },
        { what: 'tier proxy', left: 1, needed: 1, ok: true },
        // The scarcer of servers and proxies, and the text says which: here the proxies.
        { what: 'pool db-read (2 of 3 servers and 1 of 2 proxies left)', left: 1, needed: 1, ok: true },
        { what: 'pool web (3 of 3 servers and 1 of 2 proxies left)', left: 1, needed: 1, ok: true },
      ]),
    );
    // Untouched tiers are not listed.
    expect(p.faults[0].blastRadius.map((b) => b.what)).not.toContain('tier redis');
  });

  it('a Redis data loss takes no host away', () => {
    const p = preflight(spread, [{ id: 'wipe', type: 'redis-data-loss', label: 'every Redis restarted empty', hosts: ['redis-1', 'redis-2'], atMs: 5000 }], LOAD_MS, false);
    expect(p.safe).toBe(true);
    expect(p.faults[0].blastRadius).toEqual([]);
  });

  it('a partition is judged from both sides: each sees the other gone, and here both keep enough', () => {
    const { faults } = planGameDay(spread, loadScenario('partition-az-a-az-b'), undefined);
    const p = preflight(spread, faults, LOAD_MS, false);
    expect(p.faults[0].sides!.map((s) => [s.side, s.serves])).toEqual([['az-a + az-c', true], ['az-b + az-c', true]]);
    // The radius shown is the first side that serves: az-a's, which lost az-b.
    expect(p.faults[0].hosts.sort()).toEqual(['app-2', 'db-2', 'redis-2', 'sentinel-2']);
    expect(p.safe).toBe(true);
  });

  /** The zone az-a cut off from az-b and from az-c: two partitions at once. */
  const cut = (id: string, a: string[], b: string[]): ResolvedFault => ({ id, type: 'partition', label: `partition ${id}`, hosts: [...a, ...b], sides: [a, b], atMs: 5000, forMs: 15_000 });
  const zone = (z: string) => spread.hosts.filter((h) => h.zone === z).map((h) => h.name);

  it('az-a cut off from az-b and az-c: the majority side serves, the minority must stop taking writes (the first side alone was refused before)', () => {
    const p = preflight(spread, [cut('ab', zone('az-a'), zone('az-b')), cut('ac', zone('az-a'), zone('az-c'))], LOAD_MS, false);
    expect(p.safe).toBe(true);
    const sides = p.faults[1].sides!;
    expect(sides.map((s) => s.side)).toEqual(['az-a', 'az-b + az-c']);
    expect(sides[0]).toMatchObject({ serves: false, detail: expect.stringContaining('it must stop taking writes') });
    expect(sides[0].detail).toContain('tier sentinel: 1 of 3 left');
    expect(sides[1]).toMatchObject({ serves: true, detail: 'keeps every tier and pool: it must serve' });
    // What the run is judged on is the serving side's view: az-a is gone, the primaries with it.
    expect(p.faults[1].hosts.sort()).toEqual(zone('az-a').sort());
    // Cut off from its primary, the serving side's MariaDB is promoted by nothing unless a failover-db response follows.
    const dbNote = (q: typeof p) => q.faults[1].blastRadius.find((b) => b.what.startsWith('tier db'))!.what;
    expect(dbNote(preflight(spread, [cut('ab', zone('az-a'), zone('az-b')), cut('ac', zone('az-a'), zone('az-c'))], LOAD_MS, false, new Set()))).toContain('nothing promotes db-2 or db-3 (no failover-db response)');
    expect(dbNote(preflight(spread, [cut('ab', zone('az-a'), zone('az-b')), cut('ac', zone('az-a'), zone('az-c'))], LOAD_MS, false, new Set(['ab'])))).toContain('promote db-2 or db-3');
  });

  it('a cut where no side keeps a quorum is unsafe', () => {
    // Every zone from every other: no side has two of three Sentinels.
    const p = preflight(spread, [cut('ab', zone('az-a'), zone('az-b')), cut('ac', zone('az-a'), zone('az-c')), cut('bc', zone('az-b'), zone('az-c'))], LOAD_MS, false);
    expect(p.faults[2].sides!.map((s) => s.serves)).toEqual([false, false, false]);
    expect(p.safe).toBe(false);
  });

  it('a one-way cut of the primary: everyone else serves without it; it must stop taking writes', () => {
    const others = spread.hosts.map((h) => h.name).filter((n) => n !== 'db-1');
    const p = preflight(spread, [{ id: 'deaf', type: 'one-way', label: 'one-way db-1', hosts: spread.hosts.map((h) => h.name), sides: [['db-1'], others], atMs: 5000 }], LOAD_MS, false);
    expect(p.faults[0].sides!.map((s) => [s.hosts.length, s.serves])).toEqual([[1, false], [12, true]]);
    expect(p.faults[0].blastRadius.map((b) => b.what)).toContainEqual(expect.stringContaining('tier db'));
  });

  it('packet loss and a bandwidth limit take no host away', () => {
    const loss: ResolvedFault = { id: 'lossy', type: 'loss', label: 'loss', hosts: ['redis-1'], sides: [['redis-1'], ['app-1']], percent: 5, atMs: 0 };
    const slow: ResolvedFault = { id: 'slow', type: 'bandwidth', label: 'slow', hosts: ['db-1'], rate: '1mbit', atMs: 0 };
    const p = preflight(spread, [loss, slow], LOAD_MS, false);
    expect(p.faults.map((f) => f.blastRadius)).toEqual([[], []]);
  });
});

describe('pre-flight on the outage-2017 layout', () => {
  it('rack a2 breaks the proxy tier (and Redis, the apps and every pool)', () => {
    const plan = planGameDay(outage, loadScenario('rack-a2'), undefined);
    expect(plan.preflight.safe).toBe(false);
    expect(plan.preflight.expectBreaks).toBe(false);
    expect(plan.preflight.faults[0].blastRadius).toContainEqual({ what: 'tier proxy: 0 of 2 left, minHealthy is 1', left: 0, needed: 1, ok: false });
    expect(broken(plan.preflight)).toEqual(
      expect.arrayContaining(['tier redis: 0 of 2 left, minHealthy is 1; primary redis-1 lost and no replica outside rack a2 to promote', 'tier app: 0 of 3 left, minHealthy is 2', 'pool web: no server left (app-1, app-2, app-3 all lost); no proxy left (proxy-1, proxy-2 all lost)']),
    );
  });

  it('assertPreflight refuses it with the blast radius, and touches nothing', () => {
    const loaded = loadScenario('rack-a2');
    const plan = planGameDay(outage, loaded, undefined);
    const e = failure(() => assertPreflight(plan.preflight, loaded.file));
    expect(e.code).toBe('PREFLIGHT_REFUSED');
    expect(e.input).toBe(loaded.file);
    expect(e.message).toContain('rack a2: tier proxy: 0 of 2 left, minHealthy is 1');
    expect(e.message).toContain('nothing was touched');
    expect(e.hint).toContain('expect: breaks');
  });

  it('unless the scenario expects it to break (replay-2017)', () => {
    const loaded = loadScenario('replay-2017');
    const plan = planGameDay(outage, loaded, undefined);
    expect(plan.preflight.safe).toBe(false);
    expect(plan.preflight.expectBreaks).toBe(true);
    expect(() => assertPreflight(plan.preflight, loaded.file)).not.toThrow();
    // The same faults without "expect: breaks" are refused.
    expect(failure(() => assertPreflight({ ...plan.preflight, expectBreaks: false }, loaded.file)).code).toBe('PREFLIGHT_REFUSED');
  });

  it('the other racks of outage-2017 hold', () => {
    for (const rack of ['a1', 'b1', 'b2', 'c1', 'c2']) {
      const plan = planGameDay(outage, scenario({ faults: [{ type: 'power-off', target: { rack } }] }), undefined);
      expect(plan.preflight.safe, rack).toBe(true);
    }
  });
});

describe('overlapping faults are counted together', () => {
  it('two Sentinels lost at once break the quorum, although each alone is fine', () => {
    const one = preflight(spread, [powerOff('s1', ['sentinel-1'])], LOAD_MS, false);
    expect(one.safe).toBe(true);
    const both = preflight(spread, [powerOff('s1', ['sentinel-1']), powerOff('s2', ['sentinel-2'])], LOAD_MS, false);
    expect(both.safe).toBe(false);
    expect(both.faults[1].target).toBe('host sentinel-2 (with s1)');
    expect(both.faults[1].hosts).toEqual(['sentinel-1', 'sentinel-2']);
    expect(both.faults[1].blastRadius).toContainEqual({ what: 'tier sentinel: 1 of 3 left, below quorum 2', left: 1, needed: 2, ok: false });
  });

  it('one after the other is fine; a fault with no end overlaps everything after it', () => {
    const sequential = preflight(spread, [powerOff('s1', ['sentinel-1'], 0, 5000), powerOff('s2', ['sentinel-2'], 5000, 5000)], LOAD_MS, false);
    expect(sequential.safe).toBe(true);
    expect(sequential.faults.map((f) => f.hosts)).toEqual([['sentinel-1'], ['sentinel-2']]);
    const untilTheEnd = preflight(spread, [powerOff('s1', ['sentinel-1'], 0, null), powerOff('s2', ['sentinel-2'], 20_000, 5000)], LOAD_MS, false);
    expect(untilTheEnd.safe).toBe(false);
    expect(untilTheEnd.faults[0].hosts).toEqual(['sentinel-1']);
    expect(untilTheEnd.faults[1].hosts).toEqual(['sentinel-1', 'sentinel-2']);
  });

  it('through a scenario: planGameDay and assertPreflight refuse it', () => {
    const loaded = scenario({
      faults: [
        { id: 's1', type: 'power-off', target: { host: 'sentinel-1' }, at: '5s', for: '10s' },
        { id: 's2', type: 'kill-process', target: { host: 'sentinel-2' }, service: 'sentinel', at: '8s', for: '10s' },
      ],
    });
    const plan = planGameDay(spread, loaded, undefined);
    expect(plan.preflight.safe).toBe(false);
    const e = failure(() => assertPreflight(plan.preflight, loaded.file));
    expect(e.message).toContain('sentinel on host sentinel-2 (with s1): tier sentinel: 1 of 3 left, below quorum 2');
  });
});

describe('planGameDay', () => {
  it('refuses a fault type the driver cannot inject, before anything happens', () => {
    const loaded = loadScenario('replica-lag');
    const e = failure(() => planGameDay(spread, loaded, { kind: 'ssh', supports: ['power-off', 'kill-process'] }));
    expect(e.code).toBe('FAULT_UNSUPPORTED');
    expect(e.message).toBe('the ssh fault driver cannot inject stop-replication');
    expect(e.input).toBe(loaded.file);
    expect(e.hint).toBe('it supports: power-off, kill-process');
    expect(planGameDay(spread, loaded, { kind: 'lab', supports: ['power-off', 'stop-replication'] }).faults[0].type).toBe('stop-replication');
  });

  it('names the scenario file in a target error', () => {
    const e = failure(() => planGameDay(spread, scenario({ faults: [{ id: 'loss', type: 'power-off', target: { rack: 'z9' } }] }, 'mine.yaml'), undefined));
    expect(e.code).toBe('SCENARIO_TARGET');
    expect(e.input).toBe('mine.yaml: faults[0] (loss)');
  });

  it('draws a random target with the given pick, so the plan is repeatable', () => {
    const loaded = loadScenario('host-db-replica');
    expect(planGameDay(spread, loaded, undefined, () => 1).faults[0].hosts).toEqual(['db-3']);
    expect(planGameDay(spread, loaded, undefined, () => 0).faults[0].hosts).toEqual(['db-2']);
  });
});

describe('faultDetected', () => {
  const sample = (proxies: FleetSample['proxies']): FleetSample => ({ at: 0, proxies, db: {}, sentinels: {}, ms: 3 });
  const db2 = powerOff('loss', ['db-2']);

  it('a fault on no pool server shows at once, even before any sample', () => {
    expect(faultDetected(spread, powerOff('s', ['sentinel-1']), undefined)).toBe(true);
    expect(faultDetected(spread, { id: 'wipe', type: 'redis-data-loss', label: 'wipe', hosts: ['redis-1', 'redis-2'], atMs: 0 }, undefined)).toBe(true);
  });

  it('a pool server: not before a sample shows it out of traffic on every proxy', () => {
    expect(faultDetected(spread, db2, undefined)).toBe(false);
    expect(faultDetected(spread, db2, sample({ 'proxy-1': { 'db_read/db-2': 'UP', 'db_write/db-2': 'DOWN' }, 'proxy-2': { 'db_read/db-2': 'DOWN', 'db_write/db-2': 'DOWN' } }))).toBe(false);
    // "UP 1/2": its checks fail but it still takes traffic.
    expect(faultDetected(spread, db2, sample({ 'proxy-1': { 'db_read/db-2': 'UP 1/2', 'db_write/db-2': 'DOWN' }, 'proxy-2': { 'db_read/db-2': 'DOWN', 'db_write/db-2': 'DOWN' } }))).toBe(false);
    expect(faultDetected(spread, db2, sample({ 'proxy-1': { 'db_read/db-2': 'DOWN', 'db_write/db-2': 'DOWN' }, 'proxy-2': { 'db_read/db-2': 'MAINT', 'db_write/db-2': 'DOWN' } }))).toBe(true);
  });

  it('every pool the host is in counts', () => {
    const db1 = powerOff('loss', ['db-1']);
    const readGone = { 'db_read/db-1': 'DOWN', 'db_write/db-1': 'UP' };
    expect(faultDetected(spread, db1, sample({ 'proxy-1': readGone, 'proxy-2': readGone }))).toBe(false);
    const allGone = { 'db_read/db-1': 'DOWN', 'db_write/db-1': 'DOWN' };
    expect(faultDetected(spread, db1, sample({ 'proxy-1': allGone, 'proxy-2': allGone }))).toBe(true);
  });

  it('a proxy that is itself in the fault is not waited for', () => {
    const rackC1 = powerOff('loss', ['db-3', 'proxy-2']);
    const views = { 'proxy-1': { 'db_read/db-3': 'DOWN', 'db_write/db-3': 'DOWN' }, 'proxy-2': { 'db_read/db-3': 'UP', 'db_write/db-3': 'DOWN' } };
    expect(faultDetected(spread, rackC1, sample(views))).toBe(true);
    expect(faultDetected(spread, powerOff('loss', ['db-3']), sample(views))).toBe(false);
  });

  it('a response to the primary\'s loss watches the primary alone: it need not wait for the rack\'s app to leave the web pool', () => {
    const rackA1 = powerOff('loss', ['db-1', 'sentinel-1', 'app-1']);
    const primaryGone = { 'db_read/db-1': 'DOWN', 'db_write/db-1': 'DOWN', 'web/app-1': 'UP 2/3' };
    const views = sample({ 'proxy-1': primaryGone, 'proxy-2': primaryGone });
    expect(faultDetected(spread, rackA1, views)).toBe(false);
    expect(faultDetected(spread, rackA1, views, ['db-1'])).toBe(true);
  });
});
