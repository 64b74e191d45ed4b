import { describe, expect, it } from 'vitest';
import { buildInventory, stackLayout } from '../../../infra/layout.js';
import { MAX_PER_GROUP_PER_ZONE, placementGroupCount, planPlacement } from '../../../infra/placementPlan.js';
import { parseInventory, placementViolations, rackId } from '../../../topology/index.js';
import { configWith } from './fixtures.js';

const ZONES = ['us-east-1a', 'us-east-1b', 'us-east-1c', 'us-east-1d'];

function countBy<T>(items: T[], key: (t: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const i of items) m.set(key(i), (m.get(key(i)) ?? 0) + 1);
  return m;
}

describe('placement plan, every tier size 1-20 over 2-4 zones', () => {
  const cases = [];
  for (let size = 1; size <= 20; size++) for (let zoneCount = 2; zoneCount <= 4; zoneCount++) cases.push({ size, zoneCount });

  it.each(cases)('$size members over $zoneCount zones', ({ size, zoneCount }) => {
    const zones = ZONES.slice(0, zoneCount);
    const plan = planPlacement(size, zones);
    expect(plan.map((m) => m.ordinal)).toEqual(Array.from({ length: size }, (_, i) => i + 1));

    // Zones are balanced: the counts of any two zones (empty ones included) differ by at most one.
    const perZone = zones.map((z) => plan.filter((m) => m.zone === z).length);
    expect(Math.max(...perZone) - Math.min(...perZone)).toBeLessThanOrEqual(1);
    expect(new Set(plan.map((m) => m.zone)).size).toBe(Math.min(size, zoneCount));

    // No placement group holds more than 7 in a zone, and a group is opened only when needed.
    const perGroupZone = countBy(plan, (m) => `${m.placementGroupIndex}/${m.zone}`);
    expect(Math.max(...perGroupZone.values())).toBeLessThanOrEqual(MAX_PER_GROUP_PER_ZONE);
    const groups = new Set(plan.map((m) => m.placementGroupIndex));
    expect(groups.size).toBe(placementGroupCount(size, zoneCount));
    expect([...groups].sort()).toEqual(Array.from({ length: groups.size }, (_, i) => i));
    for (const g of groups) {
      if (g === groups.size - 1) continue;
      // Every group but the last is full in every zone.
      for (const z of zones) expect(perGroupZone.get(`${g}/${z}`)).toBe(MAX_PER_GROUP_PER_ZONE);
    }
  });

  it.each(cases)('the stack built with $size per tier over $zoneCount zones keeps every tier on distinct racks', ({ size, zoneCount }) => {
    const zones = ZONES.slice(0, zoneCount);
    const config = configWith({ zones: zones.join(','), webCount: String(size), dbReplicas: String(size - 1), dbProxyCount: String(Math.max(2, size)) });
    const layout = stackLayout('sweep', config);
    const hosts = [...layout.web.flatMap((g) => g.members), ...layout.db, ...layout.dbProxy];
    expect(hosts.filter((h) => h.tier === 'web')).toHaveLength(size);
    expect(hosts.filter((h) => h.tier === 'db')).toHaveLength(size);

    // Every EC2 member is in a rack-level spread group of its own tier (so on its own rack), at most 7 per zone.
    const groups = new Map(layout.placementGroups.map((g) => [g.name, g]));
    for (const h of hosts) expect(groups.get(h.rack)?.tier).toBe(h.tier);
    for (const n of countBy(hosts, (h) => `${h.tier} ${h.zone}/${h.rack}`).values()) expect(n).toBeLessThanOrEqual(MAX_PER_GROUP_PER_ZONE);

    // topology/ agrees: no rack rule broken; a tier breaks minZones only when it has a single member.
    const inv = parseInventory(buildInventory(layout, config, {}, {}), 'sweep');
    const violations = placementViolations(inv);
    expect(violations.filter((v) => v.rule === 'maxPerRack')).toEqual([]);
    expect(violations.map((v) => v.tier).sort()).toEqual(size === 1 ? ['db', 'web'] : []);
    for (const h of inv.hosts.filter((x) => x.tier !== 'redis')) expect(rackId(h)).toBe(`${h.zone}/${h.rack}`);
  });

  it('opens a second group for the 8th member of a tier in a zone', () => {
    const plan = planPlacement(15, ['a', 'b']);
    expect(plan.filter((m) => m.zone === 'a').map((m) => m.placementGroupIndex)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(plan.filter((m) => m.zone === 'b').map((m) => m.placementGroupIndex)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('refuses impossible input', () => {
    expect(() => planPlacement(3, [])).toThrow(/at least one zone/);
    expect(() => planPlacement(-1, ['a'])).toThrow(/whole number/);
  });
});
