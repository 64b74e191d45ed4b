import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { blastRadius, findDomain, loadInventory, parseInventory, placementCheck, placementViolations } from '../../../topology/index.js';

const outageFixture = fileURLToPath(new URL('../../fixtures/outage-rack.yaml', import.meta.url));

describe('blast radius of the outage fixture', () => {
  const inv = loadInventory(outageFixture);

  it('flags the rack that lost power and names exactly what breaks', () => {
    const check = placementCheck(inv);
    expect(check.ok).toBe(false);
    const rackBreaks = check.breaks.filter((b) => b.startsWith('rack idc-1/r07:'));
    expect(rackBreaks).toEqual([
      'rack idc-1/r07: tier notif-api: 0 of 2 left, minHealthy is 1',
      'rack idc-1/r07: tier db-proxy: 0 of 2 left, minHealthy is 1',
      'rack idc-1/r07: pool db-write: no proxy left (db-proxy-1, db-proxy-2 all lost)',
      'rack idc-1/r07: pool db-read: no proxy left (db-proxy-1, db-proxy-2 all lost)',
      'rack idc-1/r07: pool notif-api: no server left (notif-api-1, notif-api-2 all lost)',
    ]);
    // No other rack breaks anything.
    expect(check.breaks.filter((b) => b.startsWith('rack ') && !b.startsWith('rack idc-1/r07:'))).toEqual([]);
  });

  it('keeps the tiers that survive the rack, with what is left', () => {
    const impact = blastRadius(inv, findDomain(inv, 'r07')!);
    const web = impact.tiers.find((t) => t.tier === 'web')!;
    expect(web).toMatchObject({ holds: true, total: 18 });
    expect(web.leftCount).toBe(7);
    expect(blastRadius(inv, findDomain(inv, 'r07')!, { survivors: true }).tiers.find((t) => t.tier === 'web')!.left).toHaveLength(7);
    expect(impact.tiers.find((t) => t.tier === 'db')).toMatchObject({ holds: true, lost: ['db-3'] });
    expect(impact.tiers.find((t) => t.tier === 'redis')).toMatchObject({ holds: true, lost: ['redis-2'] });
  });

  it('reports the placement rules the fixture breaks', () => {
    const messages = placementViolations(inv).map((v) => v.message);
    expect(messages).toContain('db-proxy: 2 hosts share rack idc-1/r07 (db-proxy-1, db-proxy-2); at most 1 allowed');
    expect(messages).toContain('notif-api: 2 hosts share rack idc-1/r07 (notif-api-1, notif-api-2); at most 1 allowed');
  });
});

describe('blast radius rules', () => {
  const inv = parseInventory(
    {
      name: 'three-zones',
      tiers: { db: { minHealthy: 1 }, sentinel: { quorum: 2 }, app: { minHealthy: 2 } },
      hosts: [
        { name: 'db-1', tier: 'db', role: 'primary', zone: 'a', rack: 'a1', address: '127.1.0.1' },
        { name: 'db-2', tier: 'db', role: 'replica', zone: 'b', rack: 'b1', address: '127.1.0.2' },
        { name: 's-1', tier: 'sentinel', zone: 'a', rack: 'a1', address: '127.1.0.3' },
        { name: 's-2', tier: 'sentinel', zone: 'b', rack: 'b1', address: '127.1.0.4' },
        { name: 's-3', tier: 'sentinel', zone: 'b', rack: 'b2', address: '127.1.0.5' },
        { name: 'app-1', tier: 'app', zone: 'a', rack: 'a2', address: '127.1.0.6' },
        { name: 'app-2', tier: 'app', zone: 'b', rack: 'b2', address: '127.1.0.7' },
        { name: 'app-3', tier: 'app', zone: 'b', rack: 'b1', address: '127.1.0.8' },
      ],
    },
    'inline',
  );

  it('holds when the primary is lost but a replica outside the domain can be promoted', () => {
    const db = blastRadius(inv, findDomain(inv, 'a')!).tiers.find((t) => t.tier === 'db')!;
    expect(db.holds).toBe(true);
    expect(db.notes).toEqual(['primary db-1 lost: promote db-2']);
  });

  it('breaks when Sentinel loses its quorum and minHealthy is missed', () => {
    const impact = blastRadius(inv, findDomain(inv, 'b')!);
    expect(impact.tiers.find((t) => t.tier === 'sentinel')!.breaks).toEqual(['1 of 3 left, below quorum 2']);
    expect(impact.tiers.find((t) => t.tier === 'app')!.breaks).toEqual(['1 of 3 left, minHealthy is 2']);
    expect(impact.tiers.find((t) => t.tier === 'db')!.holds).toBe(true);
  });

  it('breaks when no replica is left to promote', () => {
    const one = blastRadius(inv, { kind: 'zone', name: 'x', hosts: ['db-1', 'db-2'] });
    expect(one.tiers.find((t) => t.tier === 'db')!.breaks).toContain('primary db-1 lost and no replica outside x to promote');
  });

  it('applies tier overrides of the placement defaults', () => {
    const relaxed = parseInventory(
      { ...inv, tiers: { ...inv.tiers, app: { minHealthy: 2, placement: { minZones: 3 } } } },
      'inline',
    );
    expect(placementViolations(relaxed).map((v) => v.message)).toContain('app: spans 2 zone(s) (a, b); at least 3 required');
  });
});

describe('blast radius at fleet scale', () => {
  // 40 replicas of one primary over 4 zones: every domain's impact must stay the size of the domain, not of the fleet.
  const inv = parseInventory(
    {
      name: 'wide',
      tiers: { db: { kind: 'mariadb', minHealthy: 10 }, web: { minHealthy: 1 } },
      placement: { maxPerRack: 100, minZones: 2 },
      hosts: [
        ...Array.from({ length: 41 }, (_, i) => ({ name: `db-${i}`, tier: 'db', role: i === 0 ? ('primary' as const) : ('replica' as const), zone: `z${i % 4}`, rack: `r${i % 8}`, address: `10.2.0.${i + 1}` })),
        ...Array.from({ length: 20 }, (_, i) => ({ name: `web-${i}`, tier: 'web', zone: `z${i % 4}`, rack: `r${i % 8}`, address: `10.3.0.${i + 1}` })),
        { name: 'lb-1', tier: 'web', zone: 'z0', rack: 'r0', address: '10.4.0.1' },
      ],
      pools: [{ name: 'web', proxies: ['lb-1'], servers: Array.from({ length: 20 }, (_, i) => `web-${i}`) }],
    },
    'inline',
  );

  it('counts what is left and names survivors only when asked', () => {
    const zone = blastRadius(inv, findDomain(inv, 'z1')!);
    const db = zone.tiers.find((t) => t.tier === 'db')!;
    expect([db.lost.length, db.leftCount, db.left]).toEqual([10, 31, undefined]);
    expect(zone.pools[0]).toMatchObject({ serversLeftCount: 15, proxiesLeftCount: 1 });
    expect(zone.pools[0].serversLeft).toBeUndefined();
    const named = blastRadius(inv, findDomain(inv, 'z1')!, { survivors: true });
    expect(named.tiers.find((t) => t.tier === 'db')!.left).toHaveLength(31);
    expect(named.pools[0].serversLeft).toHaveLength(15);
  });

  it('keeps a note one line long however many replicas could be promoted', () => {
    const db = blastRadius(inv, findDomain(inv, 'db-0')!).tiers.find((t) => t.tier === 'db')!;
    expect(db.notes).toEqual(['primary db-0 lost: promote db-1, db-2, db-3, db-4, db-5 or 35 more']);
    // The JSON of the whole analysis holds counts, not a survivor list per domain.
    expect(JSON.stringify(placementCheck(inv))).not.toContain('"left"');
  });
});
