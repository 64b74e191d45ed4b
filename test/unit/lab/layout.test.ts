import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blastRadius, failureDomains, findDomain, placementCheck, placementViolations, type Inventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { DEFAULT_LAB_LAYOUT, LAB_LAYOUT_NAMES, LAB_LAYOUTS, labInventory, type LabLayout } from '../../../lab/layout.js';
import { DEFAULT_SEED, newLab, openLab } from '../../../lab/context.js';
import { labUpOptions } from '../../../cli/labUp.js';

const ZONE_HUNDREDS: Record<string, number> = { 'az-a': 0, 'az-b': 1, 'az-c': 2 };

function placeOf(inv: Inventory): Record<string, string> {
  return Object.fromEntries(inv.hosts.map((h) => [h.name, `${h.zone}/${h.rack} ${h.address}`]));
}

function tierOf(impact: ReturnType<typeof blastRadius>, tier: string) {
  return impact.tiers.find((t) => t.tier === tier)!;
}

describe('lab layouts', () => {
  it('lists every layout once, each with a one-line description; spread is the default', () => {
    expect(LAB_LAYOUTS.map((l) => l.name)).toEqual([...LAB_LAYOUT_NAMES]);
    expect(LAB_LAYOUT_NAMES).toEqual(['spread', 'outage-2017']);
    expect(DEFAULT_LAB_LAYOUT).toBe('spread');
    for (const l of LAB_LAYOUTS) {
      expect(l.description.length).toBeGreaterThan(20);
      expect(l.description).not.toContain('\n');
    }
    expect(labInventory(30)).toEqual(labInventory(30, 'spread'));
  });

  it('keeps the default layout exactly as it was', () => {
    expect(placeOf(labInventory(20))).toEqual({
      'db-1': 'az-a/a1 198.18.20.11',
      'db-2': 'az-b/b1 198.18.20.111',
      'db-3': 'az-c/c1 198.18.20.211',
      'redis-1': 'az-a/a2 198.18.20.21',
      'redis-2': 'az-b/b2 198.18.20.121',
      'sentinel-1': 'az-a/a1 198.18.20.31',
      'sentinel-2': 'az-b/b2 198.18.20.131',
      'sentinel-3': 'az-c/c2 198.18.20.231',
      'proxy-1': 'az-a/a2 198.18.20.41',
      'proxy-2': 'az-c/c1 198.18.20.241',
      'app-1': 'az-a/a1 198.18.20.51',
      'app-2': 'az-b/b2 198.18.20.151',
      'app-3': 'az-c/c2 198.18.20.251',
    });
  });

  it('places outage-2017 as in 2017: rack a2 holds both proxies, both Redis, every app and a replica', () => {
    expect(placeOf(labInventory(20, 'outage-2017'))).toEqual({
      'db-1': 'az-a/a1 198.18.20.11',
      'db-2': 'az-b/b1 198.18.20.111',
      'db-3': 'az-a/a2 198.18.20.12',
      'redis-1': 'az-a/a2 198.18.20.21',
      'redis-2': 'az-a/a2 198.18.20.22',
      'sentinel-1': 'az-c/c1 198.18.20.231',
      'sentinel-2': 'az-b/b2 198.18.20.131',
      'sentinel-3': 'az-c/c2 198.18.20.232',
      'proxy-1': 'az-a/a2 198.18.20.41',
      'proxy-2': 'az-a/a2 198.18.20.42',
      'app-1': 'az-a/a2 198.18.20.51',
      'app-2': 'az-a/a2 198.18.20.52',
      'app-3': 'az-a/a2 198.18.20.53',
    });
  });

  it.each(LAB_LAYOUT_NAMES)('%s: same hosts, tiers, roles, services and pools; zone = hundreds of the last octet; addresses unique; all six racks', (layout) => {
    const inv = labInventory(30, layout);
    const base = labInventory(30, 'spread');
    const strip = (i: Inventory) => i.hosts.map(({ name, tier, role, services, power }) => ({ name, tier, role, services, power }));
    expect(strip(inv)).toEqual(strip(base));
    expect(inv.tiers).toEqual(base.tiers);
    expect(inv.pools).toEqual(base.pools);
    expect(inv.placement).toEqual(base.placement);
    for (const h of inv.hosts) {
      const [a, b, c, last] = h.address.split('.');
      expect(`${a}.${b}.${c}`).toBe('198.18.30');
      expect(Math.floor(Number(last) / 100)).toBe(ZONE_HUNDREDS[h.zone]);
      expect(h.rack[0]).toBe(h.zone.slice(-1));
    }
    expect(new Set(inv.hosts.map((h) => h.address)).size).toBe(inv.hosts.length);
    const racks = failureDomains(inv).filter((d) => d.kind === 'rack').map((d) => d.name);
    expect(racks).toEqual(['az-a/a1', 'az-a/a2', 'az-b/b1', 'az-b/b2', 'az-c/c1', 'az-c/c2']);
  });

  it('refuses an unknown layout with one clear error', () => {
    expect(() => labInventory(20, 'nosuch' as LabLayout)).toThrow(GamedayError);
    expect(() => labInventory(20, 'nosuch' as LabLayout)).toThrow(/unknown lab layout "nosuch"/);
  });
});

describe('blast radius: spread survives every rack and zone', () => {
  const inv = labInventory(20, 'spread');
  const domains = failureDomains(inv).filter((d) => d.kind !== 'host');

  it('has 3 zones and 6 racks to check', () => {
    expect(domains.map((d) => d.name)).toEqual(['az-a', 'az-b', 'az-c', 'az-a/a1', 'az-a/a2', 'az-b/b1', 'az-b/b2', 'az-c/c1', 'az-c/c2']);
  });

  it.each(domains.map((d) => [`${d.kind} ${d.name}`, d] as const))('losing %s breaks nothing', (_, domain) => {
    const impact = blastRadius(inv, domain, { survivors: true });
    expect(impact.tiers.filter((t) => !t.holds).map((t) => `${t.tier}: ${t.breaks.join('; ')}`)).toEqual([]);
    expect(impact.pools.filter((p) => !p.holds).map((p) => `${p.pool}: ${p.breaks.join('; ')}`)).toEqual([]);
    expect(impact.holds).toBe(true);
  });

  it('passes placement check with no rule broken', () => {
    expect(placementViolations(inv)).toEqual([]);
    expect(placementCheck(inv)).toMatchObject({ ok: true, breaks: [] });
  });

  it('loses only redis-1 and proxy-1 with rack a2: Redis fails over, one proxy stays', () => {
    const impact = blastRadius(inv, findDomain(inv, 'a2')!, { survivors: true });
    expect(impact.domain.hosts.sort()).toEqual(['proxy-1', 'redis-1']);
    expect(tierOf(impact, 'proxy')).toMatchObject({ holds: true, lost: ['proxy-1'], left: ['proxy-2'] });
    expect(tierOf(impact, 'redis')).toMatchObject({ holds: true, lost: ['redis-1'], notes: ['primary redis-1 lost: promote redis-2'] });
    expect(impact.pools.every((p) => p.proxiesLeftCount === 1)).toBe(true);
  });
});

describe('blast radius: outage-2017 loses everything with rack a2', () => {
  const inv = labInventory(20, 'outage-2017');

  it('rack a2 takes both proxies (total outage), both Redis and every app instance', () => {
    const impact = blastRadius(inv, findDomain(inv, 'a2')!, { survivors: true });
    expect(impact.holds).toBe(false);
    expect(tierOf(impact, 'proxy')).toMatchObject({ holds: false, lost: ['proxy-1', 'proxy-2'], left: [], breaks: ['0 of 2 left, minHealthy is 1'] });
    expect(tierOf(impact, 'redis')).toMatchObject({ holds: false, left: [] });
    expect(tierOf(impact, 'app')).toMatchObject({ holds: false, left: [] });
    // Every load-balancer pool loses both proxies: nothing reaches the database or the app.
    for (const pool of impact.pools) expect(pool).toMatchObject({ holds: false, proxiesLeft: [] });
    // The replica db-3 goes down with it, as in 2017; the database tier itself holds.
    expect(tierOf(impact, 'db')).toMatchObject({ holds: true, lost: ['db-3'] });
    expect(tierOf(impact, 'sentinel')).toMatchObject({ holds: true, lost: [] });
  });

  it('placement check fails, naming rack a2 and the rules broken', () => {
    const check = placementCheck(inv);
    expect(check.ok).toBe(false);
    expect(check.breaks).toContain('rack az-a/a2: tier proxy: 0 of 2 left, minHealthy is 1');
    expect(check.breaks).toContain('rack az-a/a2: pool web: no proxy left (proxy-1, proxy-2 all lost)');
    const messages = placementViolations(inv).map((v) => v.message);
    expect(messages).toContain('proxy: 2 hosts share rack az-a/a2 (proxy-1, proxy-2); at most 1 allowed');
    expect(messages).toContain('redis: 2 hosts share rack az-a/a2 (redis-1, redis-2); at most 1 allowed');
    expect(messages).toContain('app: 3 hosts share rack az-a/a2 (app-1, app-2, app-3); at most 1 allowed');
    // Of the racks, only a2 breaks anything.
    expect(new Set(check.breaks.filter((b) => b.startsWith('rack ')).map((b) => b.split(':')[0]))).toEqual(new Set(['rack az-a/a2']));
  });
});

describe('the layout lives in the lab state', () => {
  it('is stored at creation and read back by openLab', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-layout-')), 'lab');
    newLab(dir, 30, DEFAULT_SEED, 'outage-2017').save();
    expect(JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')).layout).toBe('outage-2017');
    const lab = openLab(dir)!;
    expect(lab.layout).toBe('outage-2017');
    expect(lab.inventory).toEqual(labInventory(30, 'outage-2017'));
    expect(lab.host('proxy-2')).toMatchObject({ zone: 'az-a', rack: 'a2', address: '198.18.30.42' });
  });

  it('reads a state written before layouts existed as spread', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-layout-')), 'lab');
    newLab(dir, 30).save();
    const file = join(dir, 'state.json');
    const { layout, ...old } = JSON.parse(readFileSync(file, 'utf8'));
    expect(layout).toBe('spread');
    writeFileSync(file, JSON.stringify(old));
    expect(openLab(dir)!.layout).toBe('spread');
    expect(openLab(dir)!.inventory).toEqual(labInventory(30, 'spread'));
  });

  it('rejects other stored layouts as a damaged state', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-layout-')), 'lab');
    newLab(dir, 30).save();
    const file = join(dir, 'state.json');
    writeFileSync(file, JSON.stringify({ ...JSON.parse(readFileSync(file, 'utf8')), layout: 'nosuch' }));
    expect(() => openLab(dir)).toThrow(/not a lab state/);
  });
});

describe('lab up --layout', () => {
  it('passes a known layout on, and leaves it unset without the flag (an existing lab keeps its own)', () => {
    expect(labUpOptions({ dir: '/tmp/x', layout: 'outage-2017' }).layout).toBe('outage-2017');
    expect(labUpOptions({ dir: '/tmp/x' }).layout).toBeUndefined();
  });

  it('refuses an unknown layout naming the flag and the valid layouts', () => {
    const err = (() => {
      try {
        labUpOptions({ dir: '/tmp/x', layout: 'nosuch' });
      } catch (e) {
        return e as GamedayError;
      }
    })();
    expect(err).toBeInstanceOf(GamedayError);
    expect(err!.describe()).toContain('error BAD_FLAG: --layout: unknown layout "nosuch"; valid layouts: spread, outage-2017');
  });
});
