import { afterAll, describe, expect, it, vi } from 'vitest';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { BUILT_IN_DIR, listScenarios, loadScenario, parseScenario } from '../../../chaos/scenario/load.js';
import { resolveFaults } from '../../../chaos/faults/resolve.js';
import type { FaultSpec } from '../../../chaos/scenario/schema.js';
import { labInventory } from '../../../lab/layout.js';
import { withLostPrimary, writablePrimaryAmong } from '../../../chaos/gameDay/run.js';
import { GamedayError } from '../../../core/errors.js';

const spread = labInventory(20);
const outage = labInventory(20, 'outage-2017');

const dir = mkdtempSync(join(tmpdir(), 'gameday-scenario-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(text: string, name = `s${++n}.yaml`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** The one GamedayError a call throws. */
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

const HEAD = 'name: bad\ndescription: a bad scenario\n';

/** Fault specs as a scenario file gives them (parsed, defaults filled in). */
const specs = (...faults: unknown[]): FaultSpec[] => parseScenario({ name: 'x', description: 'x', load: { duration: '60s' }, faults }, 'test').faults;

describe('built-in scenarios', () => {
  const all = listScenarios();
  const files = readdirSync(BUILT_IN_DIR).filter((f) => f.endsWith('.yaml'));

  it('lists every file in chaos/scenarios, each named as its file', () => {
    expect(all.length).toBe(files.length);
    expect(all.length).toBeGreaterThanOrEqual(16);
    for (const s of all) expect(s.scenario.name).toBe(basename(s.file, '.yaml'));
    expect(all.map((s) => s.scenario.name)).toEqual(expect.arrayContaining(['rack-a2', 'replay-2017', 'replica-lag', 'redis-data-loss', 'partition-az-a-az-b']));
  });

  it('loads by name from the built-in directory', () => {
    const l = loadScenario('rack-a2');
    expect(l.file).toBe(join(BUILT_IN_DIR, 'rack-a2.yaml'));
    expect(l.scenario.faults).toEqual([{ id: 'loss', type: 'power-off', target: { rack: 'a2' }, at: 5000, for: 15_000 }]);
    expect(l.scenario.load).toMatchObject({ rate: 40, warmup: 5000, duration: 30_000 });
  });

  for (const [layout, inv] of [['spread', spread], ['outage-2017', outage]] as const) {
    it(`every one resolves against the ${layout} lab, every random pick included`, () => {
      for (const { scenario } of all) {
        for (const k of [0, 1, 2]) {
          const faults = resolveFaults(inv, scenario.faults, (n) => Math.min(k, n - 1));
          expect(faults).toHaveLength(scenario.faults.length);
          for (const f of faults) {
            expect(f.hosts.length, `${scenario.name}: ${f.label}`).toBeGreaterThan(0);
            for (const h of f.hosts) expect(inv.hosts.map((x) => x.name)).toContain(h);
          }
        }
      }
    });
  }

  it('rack a2 is redis-1 and proxy-1 in spread, the whole 2017 rack in outage-2017', () => {
    const { scenario } = loadScenario('replay-2017');
    expect(resolveFaults(spread, scenario.faults)[0].hosts.sort()).toEqual(['proxy-1', 'redis-1']);
    expect(resolveFaults(outage, scenario.faults)[0].hosts.sort()).toEqual(['app-1', 'app-2', 'app-3', 'db-3', 'proxy-1', 'proxy-2', 'redis-1', 'redis-2']);
  });
});

describe('parseScenario', () => {
  it('fills in the defaults: ids, at, load, checks, stop-replication thread; bare numbers are seconds', () => {
    const s = parseScenario({ name: 'x', description: 'd', faults: [{ type: 'power-off', target: { host: 'db-2' } }, { type: 'stop-replication', target: { host: 'db-3' }, at: 2, for: 1.5 }] }, 'x.yaml');
    expect(s.expect).toBe('survives');
    expect(s.faults.map((f) => f.id)).toEqual(['fault-1', 'fault-2']);
    expect(s.faults[0].at).toBe(0);
    expect(s.faults[1]).toMatchObject({ at: 2000, for: 1500, thread: 'sql' });
    expect(s.load).toEqual({ rate: 40, createPercent: 20, markReadPercent: 10, warmup: 5000, duration: 40_000, users: 1000, timeout: 5000, connectTimeout: 250 });
    expect(s.checks).toEqual({});
    expect(s.responses).toEqual([]);
  });

  it('an empty document is one error naming the source', () => {
    const e = failure(() => parseScenario(null, 'empty.yaml'));
    expect(e.code).toBe('SCENARIO_INVALID');
    expect(e.input).toBe('empty.yaml');
    expect(e.message).toBe('the scenario is empty');
  });

  it('every problem of one document in one error', () => {
    const e = failure(() => parseScenario({ name: 'x', description: 'd', extra: 1, faults: [{ type: 'explode' }] }, 'two.yaml'));
    expect(e.message).toContain('faults[0].type: type must be one of power-off, kill-process, stop-replication, partition, redis-data-loss, one-way, loss, bandwidth, latency');
    expect(e.message).toContain('(top level): Unrecognized key: "extra"');
  });
});

describe('loadScenario: a bad file is one GamedayError naming the file and the field', () => {
  const cases: Array<[string, string, string]> = [
    ['an unknown fault type', `${HEAD}faults:\n  - { type: explode, target: { host: db-2 } }\n`, 'faults[0].type: type must be one of power-off, kill-process, stop-replication, partition, redis-data-loss, one-way, loss, bandwidth, latency'],
    ['a target with two keys', `${HEAD}faults:\n  - { type: power-off, target: { host: db-2, rack: a1 } }\n`, 'faults[0].target: a target is one of { host: <name> }, { rack: <name> }, { zone: <name> }'],
    ['a bad duration', `${HEAD}faults:\n  - { type: power-off, target: { host: db-2 }, at: 5 seconds }\n`, 'faults[0].at: not a duration: "5 seconds" (use e.g. 500ms, 30s, 2m)'],
    ['a bad load duration', `${HEAD}load: { duration: soon }\nfaults:\n  - { type: power-off, target: { host: db-2 } }\n`, 'load.duration: not a duration: "soon"'],
    ['a writes-resume limit as long as the fault (it would hold on the undo alone)', `${HEAD}faults:\n  - { id: loss, type: power-off, target: { host: db-1 }, at: 5s, for: 25s }\nchecks:\n  writesResume: { within: 30s }\n`, 'checks.writesResume.within: 30 s is not shorter than faults[0] (for 25 s): writes-resume would hold on the undo alone; give it less than the fault lasts'],
    ['a fault that ends after the load', `${HEAD}load: { duration: 30s }\nfaults:\n  - { id: loss, type: power-off, target: { host: db-2 }, at: 20s, for: 15s }\n`, 'faults[0]: ends at 35 s, after the load (load.duration 30 s)'],
    ['a response to no fault', `${HEAD}faults:\n  - { id: loss, type: power-off, target: { host: db-1 } }\nresponses:\n  - { after: lost, runbook: failover-db }\n`, 'responses[0].after: no fault has id "lost" (ids: loss)'],
    ['duplicate fault ids', `${HEAD}faults:\n  - { id: loss, type: power-off, target: { host: db-2 } }\n  - { id: loss, type: power-off, target: { host: db-3 } }\n`, 'faults[1].id: "loss" is used twice'],
    ['an unknown top-level key', `${HEAD}fault:\n  - { type: power-off, target: { host: db-2 } }\nfaults:\n  - { type: power-off, target: { host: db-2 } }\n`, '(top level): Unrecognized key: "fault"'],
    ['an unknown check', `${HEAD}faults:\n  - { type: power-off, target: { host: db-2 } }\nchecks: { leavePool: false }\n`, 'checks: Unrecognized key: "leavePool"'],
    ['no fault', `${HEAD}faults: []\n`, 'faults: a game day needs at least one fault'],
    ['an empty file', '', 'the scenario is empty'],
    ['a file with only a comment', '# nothing yet\n', 'the scenario is empty'],
    ['invalid YAML', `${HEAD}faults: [ { type: power-off\n`, 'not valid YAML: '],
  ];

  for (const [what, text, message] of cases) {
    it(what, () => {
      const path = file(text);
      const e = failure(() => loadScenario(path));
      expect(e.code).toBe('SCENARIO_INVALID');
      expect(e.input).toBe(path);
      expect(e.message).toContain(message);
      expect(e.hint).toBeTruthy();
      expect(e.describe()).toContain(`${path}: `);
    });
  }

  it('a file over 1 MB, before it is parsed', () => {
    const path = file(`${HEAD}faults:\n  - { type: power-off, target: { host: db-2 } }\n#${'x'.repeat(1024 * 1024)}\n`);
    const e = failure(() => loadScenario(path));
    expect(e.code).toBe('SCENARIO_INVALID');
    expect(e.input).toBe(path);
    expect(e.message).toBe('the file is over 1 MB: not a scenario');
  });

  it('a file just under 1 MB loads', () => {
    const text = `${HEAD}faults:\n  - { type: power-off, target: { host: db-2 } }\n`;
    const path = file(`${text}#${'x'.repeat(1024 * 1024 - text.length - 3)}\n`);
    expect(loadScenario(path).scenario.name).toBe('bad');
  });

  it('a missing file, an unknown name, a directory: SCENARIO_NOT_FOUND', () => {
    for (const what of [join(dir, 'nope.yaml'), 'no-such-scenario', dir]) {
      const e = failure(() => loadScenario(what));
      expect(e.code).toBe('SCENARIO_NOT_FOUND');
      expect(e.input).toBe(what);
      expect(e.hint).toContain('gameday chaos list');
    }
  });

  it('a good file outside the built-ins loads, with its path', () => {
    mkdirSync(join(dir, 'mine'), { recursive: true });
    const path = file(`${HEAD}faults:\n  - { id: lag, type: stop-replication, target: { host: db-3 }, thread: io, at: 1s, for: 2s }\n`, 'mine/lag.yaml');
    const l = loadScenario(path);
    expect(l.file).toBe(path);
    expect(l.scenario.faults[0]).toMatchObject({ id: 'lag', type: 'stop-replication', thread: 'io', at: 1000, for: 2000 });
  });
});

describe('resolveFaults', () => {
  const targetError = (faults: FaultSpec[], inv = spread) => {
    const e = failure(() => resolveFaults(inv, faults));
    expect(e.code).toBe('SCENARIO_TARGET');
    return e;
  };

  it('a { primary: <tier> } target is the live primary, wherever a failover left it; unknown is refused, never guessed', () => {
    const faults = specs({ type: 'power-off', target: { primary: 'redis' } }, { type: 'power-off', target: { primary: 'db' } });
    const [redis, db] = resolveFaults(spread, faults, undefined, { redis: { host: 'redis-2' }, db: { host: 'db-3' } });
    expect(redis).toMatchObject({ label: 'redis-2 (the live primary of redis)', hosts: ['redis-2'] });
    expect(db).toMatchObject({ label: 'db-3 (the live primary of db)', hosts: ['db-3'] });
    const e = failure(() => resolveFaults(spread, faults, undefined, { redis: { unknown: 'no majority of the 3 Sentinels names one redis server (redis-1: 1, redis-2: 1)' }, db: { host: 'db-1' } }));
    expect(e.code).toBe('SCENARIO_TARGET');
    expect(e.message).toBe('the live primary of tier redis is not known: no majority of the 3 Sentinels names one redis server (redis-1: 1, redis-2: 1); nothing was touched');
    // A plan made offline shows the inventory's primary and says the live one is looked up at run time.
    expect(resolveFaults(spread, faults)[0].label).toBe('redis-1 (the redis primary in the inventory; the live one is looked up when the game day runs)');
    expect(targetError(specs({ type: 'power-off', target: { primary: 'app' } })).message).toBe('tier "app" is http, which has no primary');
  });

  it('a random member by role takes the live role when the fleet was asked: a replica is never the live primary', () => {
    const faults = specs({ type: 'power-off', target: { random: { tier: 'db', role: 'replica' } } });
    const drawn = [0, 1].map((k) => resolveFaults(spread, faults, (n) => Math.min(k, n - 1), { db: { host: 'db-2' } })[0].hosts[0]);
    expect(drawn.sort()).toEqual(['db-1', 'db-3']);
    expect(failure(() => resolveFaults(spread, faults, undefined, { db: { unknown: 'db-3 did not answer' } })).message).toContain('the live primary of tier db is not known: db-3 did not answer');
    // A read-only server that replicates from no one (an old primary not rejoined yet) is no replica.
    expect([0, 1].map((k) => resolveFaults(spread, faults, (n) => Math.min(k, n - 1), { db: { host: 'db-2', replicas: ['db-3'] } })[0].hosts[0])).toEqual(['db-3', 'db-3']);
  });

  it('resolves hosts, racks (short or zone/rack) and zones to their hosts', () => {
    const [host, rack, rackLong, zone] = resolveFaults(spread, specs({ type: 'power-off', target: { host: 'db-2' } }, { type: 'power-off', target: { rack: 'c1' } }, { type: 'power-off', target: { rack: 'az-c/c1' } }, { type: 'power-off', target: { zone: 'az-b' } }));
    expect(host).toMatchObject({ id: 'fault-1', label: 'host db-2', hosts: ['db-2'] });
    expect(rack).toMatchObject({ label: 'rack c1', hosts: ['db-3', 'proxy-2'] });
    expect(rackLong.hosts).toEqual(['db-3', 'proxy-2']);
    expect(zone.hosts.sort()).toEqual(['app-2', 'db-2', 'redis-2', 'sentinel-2']);
  });

  it('an unknown rack, zone or host names the fault and lists what exists', () => {
    const rack = targetError(specs({ id: 'loss', type: 'power-off', target: { rack: 'z9' } }));
    expect(rack.message).toBe('no rack "z9" in inventory gameday-lab');
    expect(rack.input).toBe('faults[0] (loss)');
    expect(rack.hint).toContain('racks: ');
    expect(rack.hint).toContain('a2');
    const zone = targetError(specs({ type: 'power-off', target: { host: 'db-2' } }, { type: 'power-off', target: { zone: 'az-d' } }));
    expect(zone.message).toBe('no zone "az-d" in inventory gameday-lab');
    expect(zone.input).toBe('faults[1] (fault-2)');
    expect(zone.hint).toBe('zones: az-a, az-b, az-c');
    const host = targetError(specs({ type: 'power-off', target: { host: 'db-9' } }));
    expect(host.message).toBe('no host "db-9" in inventory gameday-lab');
    expect(host.hint).toContain('db-1, db-2, db-3');
  });

  it('a name of the wrong kind is not found', () => {
    expect(targetError(specs({ type: 'power-off', target: { host: 'a2' } })).message).toBe('no host "a2" in inventory gameday-lab');
    expect(targetError(specs({ type: 'power-off', target: { rack: 'az-a' } })).message).toBe('no rack "az-a" in inventory gameday-lab');
    expect(targetError(specs({ type: 'power-off', target: { zone: 'db-1' } })).message).toBe('no zone "db-1" in inventory gameday-lab');
  });

  it('a random tier with no members', () => {
    const none = targetError(specs({ type: 'power-off', target: { random: { tier: 'cache' } } }));
    expect(none.message).toBe('no host of tier "cache" in inventory gameday-lab');
    expect(none.hint).toBe('tiers: db, redis, sentinel, proxy, app');
    expect(targetError(specs({ type: 'power-off', target: { random: { tier: 'proxy', role: 'primary' } } })).message).toBe('no host of tier "proxy" with role primary in inventory gameday-lab');
  });

  it('kill-process of a service the host does not run', () => {
    const e = targetError(specs({ id: 'kill', type: 'kill-process', target: { host: 'db-2' }, service: 'redis' }));
    expect(e.message).toBe('db-2 run no service "redis"');
    expect(e.input).toBe('faults[0] (kill).service');
    // A rack: only the hosts without it are named.
    expect(targetError(specs({ type: 'kill-process', target: { rack: 'c1' }, service: 'mysql' })).message).toBe('proxy-2 run no service "mysql"');
    expect(resolveFaults(spread, specs({ type: 'kill-process', target: { host: 'redis-1' }, service: 'redis' }))[0]).toMatchObject({ label: 'redis on host redis-1', service: 'redis', hosts: ['redis-1'] });
  });

  it('stop-replication of a host without MariaDB', () => {
    const e = targetError(specs({ type: 'stop-replication', target: { host: 'redis-2' } }));
    expect(e.message).toBe('redis-2 run no MariaDB');
    expect(e.input).toBe('faults[0] (fault-1).target');
  });

  it('a partition naming the same zone twice, or an unknown zone', () => {
    const same = targetError(specs({ id: 'split', type: 'partition', between: ['az-a', 'az-a'] }));
    expect(same.message).toBe('a partition needs two different zones');
    expect(same.input).toBe('faults[0] (split).between');
    expect(targetError(specs({ type: 'partition', between: ['az-a', 'az-q'] })).message).toBe('no zone "az-q" in inventory gameday-lab');
  });

  it('a partition has both sides; a Redis data loss hits every Redis', () => {
    const [split, wipe] = resolveFaults(spread, specs({ type: 'partition', between: ['az-a', 'az-b'] }, { type: 'redis-data-loss' }));
    expect(split.sides).toEqual([['db-1', 'redis-1', 'sentinel-1', 'proxy-1', 'app-1'], ['db-2', 'redis-2', 'sentinel-2', 'app-2']]);
    expect(split.label).toBe('az-a | az-b');
    expect(wipe.hosts).toEqual(['redis-1', 'redis-2']);
  });

  it('network faults: one-way from a host to every other, loss between a host and its peers, a rate on a link', () => {
    const [deaf, lossy, slow] = resolveFaults(spread, specs(
      { id: 'deaf', type: 'one-way', from: { host: 'db-1' } },
      { id: 'lossy', type: 'loss', target: { host: 'redis-1' }, percent: 5, peers: { zone: 'az-b' } },
      { id: 'slow', type: 'bandwidth', target: { host: 'db-1' }, rate: '1mbit' },
    ));
    expect(deaf.sides![0]).toEqual(['db-1']);
    expect(deaf.sides![1]).toHaveLength(12);
    expect(deaf.label).toBe('host db-1 -> every other host');
    expect(lossy).toMatchObject({ hosts: ['redis-1'], sides: [['redis-1'], ['db-2', 'redis-2', 'sentinel-2', 'app-2']], percent: 5, label: '5 % of packets, host redis-1 <-> zone az-b' });
    expect(slow).toMatchObject({ hosts: ['db-1'], rate: '1mbit', label: 'host db-1 at 1mbit' });
  });

  it('latency: a round trip that grows between a zone and every host outside it, with its jitter', () => {
    const [far] = resolveFaults(spread, specs({ id: 'far', type: 'latency', target: { zone: 'az-a' }, ms: 200, jitter: 20 }));
    expect(far).toMatchObject({ type: 'latency', hosts: ['db-1', 'redis-1', 'sentinel-1', 'proxy-1', 'app-1'], delayMs: 200, jitterMs: 20, label: '+200 ± 20 ms round trip, zone az-a <-> every other host' });
    expect(far.sides![1]).toHaveLength(8);
    expect(far.sides![1]).not.toContain('db-1');
    const [plain] = resolveFaults(spread, specs({ type: 'latency', target: { host: 'db-1' }, ms: 50, peers: { host: 'db-2' } }));
    expect(plain).toMatchObject({ jitterMs: 0, sides: [['db-1'], ['db-2']], label: '+50 ms round trip, host db-1 <-> host db-2' });
  });

  it('latency whose jitter exceeds its delay, or of no delay, is refused naming the field', () => {
    expect(() => specs({ type: 'latency', target: { host: 'db-1' }, ms: 10, jitter: 20 })).toThrow(/faults\[0\]\.jitter: jitter cannot be more than ms/);
    expect(() => specs({ type: 'latency', target: { host: 'db-1' }, ms: 0 })).toThrow(/faults\[0\]\.ms/);
  });

  it('a network fault whose two ends are the same hosts, or a rate that is not one', () => {
    const e = targetError(specs({ id: 'self', type: 'one-way', from: { host: 'db-1' }, to: { host: 'db-1' } }));
    expect(e.message).toBe('the fault has no host at its other end (both ends are the same hosts)');
    expect(e.input).toBe('faults[0] (self).to');
    expect(() => specs({ type: 'bandwidth', target: { host: 'db-1' }, rate: 'fast' })).toThrow(/a rate such as 500kbit, 1mbit or 1gbit/);
    expect(() => specs({ type: 'loss', target: { host: 'db-1' }, percent: 0 })).toThrow(/percent/);
  });

  it('keeps the timing: at, for', () => {
    const [f] = resolveFaults(spread, specs({ id: 'x', type: 'power-off', target: { host: 'db-2' }, at: '5s', for: '15s' }));
    expect(f).toMatchObject({ id: 'x', type: 'power-off', atMs: 5000, forMs: 15_000 });
  });

  it('a random target drawn with an injected pick is deterministic', () => {
    const faults = specs({ type: 'power-off', target: { random: { tier: 'db', role: 'replica' } } }, { type: 'power-off', target: { random: { tier: 'app' } } });
    const pick = vi.fn((n: number) => n - 1);
    const first = resolveFaults(spread, faults, pick);
    expect(pick.mock.calls).toEqual([[2], [3]]);
    expect(first.map((f) => f.hosts)).toEqual([['db-3'], ['app-3']]);
    expect(first[0].label).toBe('db-3 (a random replica of db)');
    expect(first[1].label).toBe('app-3 (a random member of app)');
    expect(resolveFaults(spread, faults, pick)).toEqual(first);
    expect(resolveFaults(spread, faults, () => 0).map((f) => f.hosts)).toEqual([['db-2'], ['app-1']]);
  });
});

describe('responses that name the lost primary', () => {
  it('fills in $lost-primary with the writable db host among the fault\'s hosts, and skips a response whose fault took none', () => {
    const sample = { at: 0, ms: 1, proxies: {}, sentinels: {}, db: {
      'db-1': { readOnly: true, replicating: true, ioRunning: true, sqlRunning: true, lagMs: 0 },
      'db-2': { readOnly: false, replicating: false, ioRunning: false, sqlRunning: false, lagMs: 0 },
    } };
    expect(writablePrimaryAmong(sample, ['db-2', 'redis-1'])).toBe('db-2');
    expect(writablePrimaryAmong(sample, ['db-1', 'app-1'])).toBeUndefined();
    expect(withLostPrimary({ host: '$lost-primary', ramp: '25,100' }, 'db-2')).toEqual({ host: 'db-2', ramp: '25,100' });
    expect(withLostPrimary({ host: '$lost-primary' }, undefined)).toBeUndefined();
    expect(withLostPrimary({ host: 'db-3' }, undefined)).toEqual({ host: 'db-3' });
  });

  it('refuses any other placeholder, naming the field', () => {
    const err = failure(() => loadScenario(file(`${HEAD}faults: [{ id: loss, type: power-off, target: { host: db-1 } }]
responses: [{ after: loss, runbook: failover-db, params: { primary: $primary } }]
`)));
    expect(err.message + err.hint).toMatch(/responses.*params.*primary/s);
    expect(err.message + err.hint).toContain('$lost-primary');
  });
});
