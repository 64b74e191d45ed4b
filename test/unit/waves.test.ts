import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { loadInventory } from '../../topology/index.js';
import { labInventory } from '../../lab/layout.js';
import { planWaves } from '../../runbooks/waves.js';

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

  it('puts primaries last in their zone', () => {
    const { waves } = planWaves(lab, lab.hosts.map((h) => h.name));
    const zoneA = waves.filter((w) => w.zone === 'az-a').flatMap((w) => w.hosts);
    expect(zoneA.slice(-2)).toEqual(['redis-1', 'db-1']);
  });

  it('refuses a host whose loss alone breaks a tier, and splits waves that would break one together', () => {
    const outage = loadInventory(fileURLToPath(new URL('../fixtures/outage-rack.yaml', import.meta.url)));
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
});
