import { blastRadius, kindOf, type Host, type Inventory, type TierKind } from '../topology/index.js';

export interface Wave {
  zone: string;
  hosts: string[];
}

export interface WavePlan {
  waves: Wave[];
  /** Hosts that cannot be taken down at all without breaking a tier, with the reason. */
  refused: Array<{ host: string; reason: string }>;
}

/** Hosts that hold traffic or state go last in a zone, so the easy ones prove the path first. */
const KIND_ORDER: TierKind[] = ['generic', 'http', 'sentinel', 'haproxy', 'redis', 'mariadb'];
const rankIn = (inv: Inventory) => (h: Host) => KIND_ORDER.indexOf(kindOf(inv, h)) * 10 + (h.role === 'primary' ? 1 : 0);

/**
 * Plans reboot waves: one zone at a time; in a wave at most one member of a
 * tier; and no wave whose loss the blast-radius analysis says would break a
 * tier or pool. Hosts are gone through one by one inside a wave; the wave is
 * the unit of safety (what may be down together).
 */
export function planWaves(inv: Inventory, hostNames: string[]): WavePlan {
  const wanted = new Set(hostNames);
  const hosts = inv.hosts.filter((h) => wanted.has(h.name));
  const zones = [...new Set(hosts.map((h) => h.zone))].sort();
  const waves: Wave[] = [];
  const refused: WavePlan['refused'] = [];
  const rank = rankIn(inv);
  for (const zone of zones) {
    const pending = hosts.filter((h) => h.zone === zone).sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
    const zoneWaves: Host[][] = [];
    for (const host of pending) {
      const alone = blastRadius(inv, { kind: 'host', name: host.name, hosts: [host.name] });
      if (!alone.holds) {
        const why = [...alone.tiers.flatMap((t) => t.breaks.map((b) => `tier ${t.tier}: ${b}`)), ...alone.pools.flatMap((p) => p.breaks.map((b) => `pool ${p.pool}: ${b}`))];
        refused.push({ host: host.name, reason: why.join('; ') });
        continue;
      }
      const fits = (wave: Host[]) =>
        !wave.some((w) => w.tier === host.tier) &&
        blastRadius(inv, { kind: 'host', name: 'wave', hosts: [...wave, host].map((h) => h.name) }).holds;
      const wave = zoneWaves.find(fits);
      if (wave) wave.push(host);
      else zoneWaves.push([host]);
    }
    for (const w of zoneWaves) waves.push({ zone, hosts: w.map((h) => h.name) });
  }
  return { waves, refused };
}
