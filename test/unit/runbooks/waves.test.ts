import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { blastRadius, loadInventory, parseInventory, type Inventory, type InventoryInput } from '../../../topology/index.js';
import { labInventory } from '../../../lab/layout.js';
import { maxUnavailableCount, planWaves, type WavePlan } from '../../../runbooks/planning/waves.js';
import { estimateCycle } from '../../../runbooks/planning/cycleEstimate.js';

type TierInput = NonNullable<InventoryInput['tiers']>[string];
const ZONES = ['az-a', 'az-b', 'az-c'];

/** An inventory of tiers given as [name, spec, count, zones to spread over (default all three)], each host alone in its rack. */
function fleetOf(tiers: Array<[string, TierInput, number, string[]?]>, pools: InventoryInput['pools'] = []): Inventory {
  const hosts: NonNullable<InventoryInput['hosts']> = [];
  for (const [tier, spec, count, zones = ZONES] of tiers) {
    for (let i = 0; i < count; i++) {
      const stateful = spec.kind === 'mariadb' || spec.kind === 'redis';
      hosts.push({ name: `${tier}-${i + 1}`, tier, zone: zones[i % zones.length], rack: `r${hosts.length}`, address: `10.0.${hosts.length >> 8}.${hosts.length & 255}`, ...(stateful ? { role: i === 0 ? 'primary' : 'replica' } : {}) });
    }
  }
  return parseInventory({ name: 'test', tiers: Object.fromEntries(tiers.map(([t, spec]) => [t, spec])), placement: { maxPerRack: 100, minZones: 1 }, hosts, pools }, 'test');
}

const tiersOf = new WeakMap<Inventory, Map<string, string>>();
const tierOf = (inv: Inventory, host: string) => {
  if (!tiersOf.has(inv)) tiersOf.set(inv, new Map(inv.hosts.map((h) => [h.name, h.tier])));
  return tiersOf.get(inv)!.get(host)!;
};
/** The most members of `tier` any one wave holds. */
const mostOf = (inv: Inventory, plan: WavePlan, tier: string) => Math.max(0, ...plan.waves.map((w) => w.hosts.filter((h) => tierOf(inv, h) === tier).length));
const everyone = (inv: Inventory) => inv.hosts.map((h) => h.name);

/** What must hold of any plan: every planned host once, one zone a wave, zones one after another, and each wave's loss survivable by the full analysis. */
function expectSafe(inv: Inventory, plan: WavePlan, wanted = everyone(inv)) {
  const planned = plan.waves.flatMap((w) => w.hosts);
  expect(new Set(planned).size).toBe(planned.length);
  expect([...planned, ...plan.refused.map((r) => r.host)].sort()).toEqual([...wanted].sort());
  const zoneOf = new Map(inv.hosts.map((h) => [h.name, h.zone]));
  for (const w of plan.waves) {
    expect(w.hosts.every((h) => zoneOf.get(h) === w.zone), `${w.zone}: ${w.hosts.join(',')}`).toBe(true);
    expect(w.hosts.length).toBeLessThanOrEqual(plan.maxPerWave);
    const impact = blastRadius(inv, { kind: 'host', name: 'wave', hosts: w.hosts });
    expect(impact.holds, `${w.hosts.join(',')}: ${JSON.stringify([...impact.tiers, ...impact.pools].flatMap((x) => x.breaks))}`).toBe(true);
  }
  const zones = plan.waves.map((w) => w.zone);
  expect(zones).toEqual([...zones].sort());
}

describe('reboot wave planning', () => {
  const lab = labInventory();

  it('goes zone by zone with at most one member of a tier per wave, and every host goes round', () => {
    const all = lab.hosts.map((h) => h.name);
    const { waves, refused } = planWaves(lab, all);
    expect(refused).toEqual([]);
    expect(waves.flatMap((w) => w.hosts).sort()).toEqual([...all].sort());
    expect(waves.map((w) => w.zone)).toEqual([...waves.map((w) => w.zone)].sort());
    for (const wave of waves) {
      const tiers = wave.hosts.map((h) => lab.hosts.find((x) => x.name === h)!.tier);
      expect(new Set(tiers).size, wave.hosts.join(',')).toBe(tiers.length);
      expect(new Set(wave.hosts.map((h) => lab.hosts.find((x) => x.name === h)!.zone)).size).toBe(1);
    }
  });

  it('puts primaries last in their wave', () => {
    const { waves } = planWaves(lab, lab.hosts.map((h) => h.name));
    const firstOfA = waves.find((w) => w.zone === 'az-a')!;
    expect(firstOfA.hosts.slice(-2)).toEqual(['redis-1', 'db-1']);
  });

  it('never puts a Sentinel in a wave with a Redis it watches: its lane could reboot the Sentinel asked to fail over', () => {
    // The lab tempts it: each zone holds a Redis or a Sentinel of the same cluster, and both tiers go one at a time.
    const { waves } = planWaves(lab, lab.hosts.map((h) => h.name));
    for (const w of waves) expect(w.hosts.some((h) => h.startsWith('sentinel-')) && w.hosts.some((h) => h.startsWith('redis-')), w.hosts.join(' ')).toBe(false);
    expect(waves.flatMap((w) => w.hosts).sort()).toEqual(lab.hosts.map((h) => h.name).sort());
  });

  it('refuses a host whose loss alone breaks a tier, and splits waves that would break one together', () => {
    const outage = loadInventory(fileURLToPath(new URL('../../fixtures/outage-rack.yaml', import.meta.url)));
    const { waves, refused } = planWaves(outage, ['notif-api-1', 'notif-api-2', 'web-01', 'db-proxy-1', 'lb-1']);
    expect(refused).toEqual([]);
    // Both API servers never go together, nor both proxies: each tier member in its own wave.
    const together = waves.find((w) => w.hosts.includes('notif-api-1') && w.hosts.includes('notif-api-2'));
    expect(together).toBeUndefined();
    const single = planWaves({ ...outage, tiers: { ...outage.tiers, lb: { minHealthy: 2 } } }, ['lb-1']);
    expect(single.waves).toEqual([]);
    expect(single.refused[0]).toMatchObject({ host: 'lb-1' });
    expect(single.refused[0].reason).toContain('tier lb: 1 of 2 left, minHealthy is 2');
  });

  it('a stateless tier with maxUnavailable 50% loses several members a wave: 12 web hosts over 3 zones go in 3 waves of 4, not 12 of one', () => {
    const inv = fleetOf([['web', { kind: 'http', maxUnavailable: '50%', minHealthy: 6 }, 12]]);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(plan.waves.map((w) => [w.zone, w.hosts.length])).toEqual([['az-a', 4], ['az-b', 4], ['az-c', 4]]);
    expect(plan.limits).toEqual([{ tier: 'web', kind: 'http', members: 12, perWave: 6, by: 'maxUnavailable 50% of 12 = 6' }]);
  });

  it('minHealthy still caps what maxUnavailable allows: 50% of 12 is 6, but minHealthy 10 lets only 2 go at once', () => {
    const inv = fleetOf([['web', { kind: 'http', maxUnavailable: '50%', minHealthy: 10 }, 12]]);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(mostOf(inv, plan, 'web')).toBe(2);
    expect(plan.waves).toHaveLength(6); // 4 a zone, 2 at a time
    expect(plan.limits[0]).toMatchObject({ perWave: 2, by: 'minHealthy 10 of 12: 2 may go' });
  });

  it('a mariadb tier keeps one member a wave while a stateless tier beside it goes several at a time', () => {
    // 6 db hosts, 2 in each zone; 12 web hosts, 4 in each zone.
    const inv = fleetOf([['db', { kind: 'mariadb', minHealthy: 2 }, 6], ['web', { kind: 'http', maxUnavailable: '50%', minHealthy: 6 }, 12]]);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(mostOf(inv, plan, 'db')).toBe(1);
    expect(mostOf(inv, plan, 'web')).toBeGreaterThan(1);
    expect(plan.waves).toHaveLength(6); // each zone: its 2 db hosts one a wave, its 4 web hosts shared out over those 2 waves
    expect(plan.waves.every((w) => w.hosts.some((h) => h.startsWith('db-')) && w.hosts.some((h) => h.startsWith('web-')))).toBe(true);
    // The primary goes after its tier's other members of the zone, last in its wave.
    const primaryWave = plan.waves.findIndex((w) => w.hosts.includes('db-1'));
    expect(plan.waves[primaryWave].hosts.at(-1)).toBe('db-1');
    expect(plan.waves.findIndex((w) => w.hosts.includes('db-4'))).toBeLessThan(primaryWave); // db-4: db-1's zone peer
  });

  it('a mariadb tier whose maxUnavailable says 2 loses 2 a wave; Sentinel and HAProxy tiers keep to 1 without one', () => {
    const db = fleetOf([['db', { kind: 'mariadb', minHealthy: 2, maxUnavailable: 2 }, 6, ['az-a']]]);
    const dbPlan = planWaves(db, everyone(db));
    expectSafe(db, dbPlan);
    expect(dbPlan.waves.map((w) => w.hosts.length)).toEqual([2, 2, 2]);
    const inv = fleetOf([['sentinel', { kind: 'sentinel', quorum: 2 }, 9, ['az-a']], ['lb', { kind: 'haproxy' }, 4, ['az-a']]]);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(mostOf(inv, plan, 'sentinel')).toBe(1);
    expect(mostOf(inv, plan, 'lb')).toBe(1);
    expect(plan.waves).toHaveLength(9); // 9 Sentinels one at a time; the 4 proxies spread over those waves
    expect(plan.limits.map((l) => [l.tier, l.perWave, l.by])).toEqual([
      ['sentinel', 1, 'sentinel: 1 unless maxUnavailable says more'],
      ['lb', 1, 'haproxy: 1 unless maxUnavailable says more'],
    ]);
  });

  it('a maxUnavailable count is kept to, and percentages round down but never below 1', () => {
    const inv = fleetOf([['api', { kind: 'http', maxUnavailable: 3 }, 21, ['az-a']]]);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(plan.waves.map((w) => w.hosts.length)).toEqual([3, 3, 3, 3, 3, 3, 3]);
    expect(maxUnavailableCount({ maxUnavailable: '10%' }, 12)).toBe(1);
    expect(maxUnavailableCount({ maxUnavailable: '10%' }, 29)).toBe(2);
    expect(maxUnavailableCount({ maxUnavailable: '5%' }, 12)).toBe(1);
    expect(maxUnavailableCount({ maxUnavailable: '100%' }, 12)).toBe(12);
    expect(maxUnavailableCount({}, 12)).toBeUndefined();
  });

  it('a stateless tier without maxUnavailable goes as fast as the blast radius allows, up to --max-per-wave hosts a wave', () => {
    const inv = fleetOf([['worker', {}, 30, ['az-a']]]);
    // All 30 in one zone, and one must stay (minHealthy defaults to 1): two waves, shared out evenly.
    expect(planWaves(inv, everyone(inv)).waves.map((w) => w.hosts.length)).toEqual([15, 15]);
    const plan = planWaves(inv, everyone(inv), { maxPerWave: 10 });
    expectSafe(inv, plan);
    expect(plan.waves.map((w) => w.hosts.length)).toEqual([10, 10, 10]);
    expect(() => planWaves(inv, everyone(inv), { maxPerWave: 0 })).toThrow(/1 or more/);
  });

  it('the blast radius refuses a wave that would leave a pool without a server, even where each tier could lose the host', () => {
    // api-1 and web-1 are the only servers of pool "front"; each of their tiers could lose one member.
    const inv = fleetOf([['api', { kind: 'http' }, 3, ['az-a']], ['web', { kind: 'http' }, 3, ['az-a']], ['lb', { kind: 'haproxy' }, 2, ['az-a']]], [{ name: 'front', proxies: ['lb-1', 'lb-2'], servers: ['api-1', 'web-1'] }]);
    expect(blastRadius(inv, { kind: 'host', name: 'x', hosts: ['api-1', 'web-1'] }).holds).toBe(false);
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(plan.waves.find((w) => w.hosts.includes('api-1') && w.hosts.includes('web-1'))).toBeUndefined();
    expect(plan.waves.find((w) => w.hosts.includes('lb-1') && w.hosts.includes('lb-2'))).toBeUndefined();
  });

  it('never takes a primary with every replica that could replace it, even where maxUnavailable and minHealthy would allow it', () => {
    // 5 members, 4 may go; only c-5 can replace the primary c-1, and the even spread would put the two together.
    const hosts = ['c-1', 'c-2', 'c-3', 'c-4', 'c-5'].map((name, i) => ({ name, tier: 'cache', zone: 'az-a', rack: `r${i}`, address: `10.0.0.${i + 1}`, ...(name === 'c-1' ? { role: 'primary' as const } : name === 'c-5' ? { role: 'replica' as const } : {}) }));
    const inv = parseInventory({ name: 't', tiers: { cache: { kind: 'redis', maxUnavailable: '100%', minHealthy: 1 } }, placement: { maxPerRack: 9, minZones: 1 }, hosts }, 't');
    const plan = planWaves(inv, everyone(inv));
    expectSafe(inv, plan);
    expect(plan.waves.find((w) => w.hosts.includes('c-1') && w.hosts.includes('c-5'))).toBeUndefined();
    expect(plan.waves).toHaveLength(2);
  });

  it('a host moved out of its wave (here by a pool) does not push another wave over its tier limit', () => {
    // web may lose 2 a wave; web-1 cannot go with edge-1 (they are pool p's only servers), so it moves to the next wave.
    const hosts = [
      ...['edge-1', 'edge-2'].map((name) => ({ name, tier: 'edge' })),
      ...['web-1', 'web-2', 'web-3', 'web-4'].map((name) => ({ name, tier: 'web' })),
    ].map((h, i) => ({ ...h, zone: 'az-a', rack: `r${i}`, address: `10.0.0.${i + 1}` }));
    const lbs = ['lb-1', 'lb-2'].map((name, i) => ({ name, tier: 'lb', zone: 'az-b', rack: `b${i}`, address: `10.0.1.${i + 1}` }));
    const inv = parseInventory(
      { name: 't', tiers: { edge: { kind: 'haproxy' }, web: { kind: 'http', maxUnavailable: 2 }, lb: { kind: 'haproxy' } }, placement: { maxPerRack: 9, minZones: 1 }, hosts: [...hosts, ...lbs], pools: [{ name: 'p', proxies: ['lb-1', 'lb-2'], servers: ['edge-1', 'web-1'] }] },
      't',
    );
    const wanted = hosts.map((h) => h.name);
    const plan = planWaves(inv, wanted);
    expectSafe(inv, plan, wanted);
    expect(mostOf(inv, plan, 'web')).toBe(2);
    expect(plan.waves).toHaveLength(2);
  });

  it('plans 10,000 hosts in well under two seconds, every wave safe, and the estimate counts its nights', () => {
    const tiers: Array<[string, TierInput, number, string[]?]> = [
      ['web', { kind: 'http', maxUnavailable: '10%', minHealthy: 2 }, 3000],
      ['api', { kind: 'http', minHealthy: 2 }, 2000],
      ['worker', {}, 2500],
      ['db', { kind: 'mariadb', minHealthy: 2 }, 600],
      ['redis', { kind: 'redis', minHealthy: 1 }, 300],
      ['sentinel', { kind: 'sentinel', quorum: 2 }, 300],
      ['proxy', { kind: 'haproxy', minHealthy: 2 }, 300],
      ['batch', { kind: 'generic', maxUnavailable: 5 }, 1000],
    ];
    const names = (t: string, n: number) => Array.from({ length: n }, (_, i) => `${t}-${i + 1}`);
    const inv = fleetOf(tiers, [{ name: 'web', proxies: ['proxy-1', 'proxy-2'], servers: names('web', 3000) }, { name: 'db-read', proxies: ['proxy-3', 'proxy-4'], servers: names('db', 600).slice(1) }]);
    expect(inv.hosts).toHaveLength(10_000);
    const t0 = performance.now();
    const plan = planWaves(inv, everyone(inv));
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(2000);
    expect(plan.refused).toEqual([]);
    expectSafe(inv, plan);
    // 200 db hosts a zone, one a wave: 600 waves, not 2,999 (the old one-per-tier limit: the size of the web tier).
    expect(plan.waves).toHaveLength(600);
    expect(mostOf(inv, plan, 'db')).toBe(1);
    expect(mostOf(inv, plan, 'batch')).toBeLessThanOrEqual(5);
    expect(Math.max(...plan.waves.map((w) => w.hosts.length))).toBeLessThanOrEqual(50);
    // 600 waves of 5 minutes in nightly windows of 3 hours: 36 a night, 17 nights.
    const e = estimateCycle(plan.waves, { hostMs: 5 * 60_000, window: { days: 'all', hours: '02:00-05:00' } });
    expect(e.together).toMatchObject({ units: 600, windows: 17, perWindow: 36 });
    expect(e.oneByOne).toMatchObject({ units: 10_000, windows: 278 });
  });
});

describe('a replication cluster split over two tiers', () => {
  it('loses one member a wave as a whole, never a primary and a replica of it together', () => {
    // One MariaDB cluster "main" over two tiers in one data center, each tier on its own racks.
    const input: InventoryInput = {
      name: 'split',
      tiers: { 'db-old': { kind: 'mariadb', cluster: 'main', minHealthy: 1 }, 'db-new': { kind: 'mariadb', cluster: 'main', minHealthy: 1 } },
      placement: { maxPerRack: 1, minZones: 1 },
      hosts: [
        { name: 'old-1', tier: 'db-old', role: 'primary', zone: 'dc', rack: 'r1', address: '10.0.0.1', services: { mysql: 3306 } },
        { name: 'old-2', tier: 'db-old', role: 'replica', zone: 'dc', rack: 'r2', address: '10.0.0.2', services: { mysql: 3306 } },
        { name: 'new-1', tier: 'db-new', role: 'replica', zone: 'dc', rack: 'r3', address: '10.0.0.3', services: { mysql: 3306 } },
        { name: 'new-2', tier: 'db-new', role: 'replica', zone: 'dc', rack: 'r4', address: '10.0.0.4', services: { mysql: 3306 } },
      ],
    };
    const inv = parseInventory(input, 'split.yaml');
    const plan = planWaves(inv, inv.hosts.map((h) => h.name));
    expect(plan.refused).toEqual([]);
    expect(plan.waves.flatMap((w) => w.hosts).sort()).toEqual(['new-1', 'new-2', 'old-1', 'old-2']);
    for (const w of plan.waves) expect(w.hosts, `wave ${JSON.stringify(w.hosts)}`).toHaveLength(1);
  });
});
