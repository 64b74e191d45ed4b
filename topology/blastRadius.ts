import { failureDomains, type Domain } from './domains.js';
import type { Inventory, Tier } from './schema.js';

/** What losing one domain does to one tier. */
export interface TierImpact {
  tier: string;
  total: number;
  lost: string[];
  left: string[];
  holds: boolean;
  /** Why it breaks (empty when it holds). */
  breaks: string[];
  /** What keeps it going, worth knowing (e.g. "promote db-2"). */
  notes: string[];
}

/** What losing one domain does to one load-balancer pool. */
export interface PoolImpact {
  pool: string;
  serversLeft: string[];
  proxiesLeft: string[];
  holds: boolean;
  breaks: string[];
}

export interface DomainImpact {
  domain: Domain;
  tiers: TierImpact[];
  pools: PoolImpact[];
  holds: boolean;
}

function tierImpact(inv: Inventory, tier: string, spec: Tier, dead: Set<string>, domainName: string): TierImpact {
  const members = inv.hosts.filter((h) => h.tier === tier);
  const lost = members.filter((h) => dead.has(h.name)).map((h) => h.name);
  const survivors = members.filter((h) => !dead.has(h.name));
  const left = survivors.map((h) => h.name);
  const breaks: string[] = [];
  const notes: string[] = [];

  // A tier without explicit needs still needs one member left.
  const minHealthy = spec.minHealthy ?? (spec.quorum === undefined ? 1 : undefined);
  if (minHealthy !== undefined && left.length < minHealthy) {
    breaks.push(`${left.length} of ${members.length} left, minHealthy is ${minHealthy}`);
  }
  if (spec.quorum !== undefined) {
    // Sentinel: quorum agrees the primary is down; a majority of all must vote to fail over.
    const majority = Math.floor(members.length / 2) + 1;
    if (left.length < spec.quorum) breaks.push(`${left.length} of ${members.length} left, below quorum ${spec.quorum}`);
    else if (left.length < majority) breaks.push(`${left.length} of ${members.length} left, no majority (${majority}) to elect a failover leader`);
  }
  const primary = members.find((h) => h.role === 'primary');
  if (primary && dead.has(primary.name)) {
    const promotable = survivors.filter((h) => h.role === 'replica').map((h) => h.name);
    if (promotable.length === 0) breaks.push(`primary ${primary.name} lost and no replica outside ${domainName} to promote`);
    else notes.push(`primary ${primary.name} lost: promote ${promotable.join(' or ')}`);
  }
  return { tier, total: members.length, lost, left, holds: breaks.length === 0, breaks, notes };
}

function poolImpact(pool: Inventory['pools'][number], dead: Set<string>): PoolImpact {
  const serversLeft = pool.servers.filter((s) => !dead.has(s));
  const proxiesLeft = pool.proxies.filter((p) => !dead.has(p));
  const breaks: string[] = [];
  if (serversLeft.length === 0) breaks.push(`no server left (${pool.servers.join(', ')} all lost)`);
  if (proxiesLeft.length === 0) breaks.push(`no proxy left (${pool.proxies.join(', ')} all lost)`);
  return { pool: pool.name, serversLeft, proxiesLeft, holds: breaks.length === 0, breaks };
}

/** What the loss of one domain takes from every tier and pool, and whether each still holds. */
export function blastRadius(inv: Inventory, domain: Domain): DomainImpact {
  const dead = new Set(domain.hosts);
  const tiers = Object.entries(inv.tiers).map(([tier, spec]) => tierImpact(inv, tier, spec, dead, domain.name));
  const pools = inv.pools.map((p) => poolImpact(p, dead));
  return { domain, tiers, pools, holds: tiers.every((t) => t.holds) && pools.every((p) => p.holds) };
}

/** Blast radius of every zone, rack and host. */
export function blastRadiusOfAll(inv: Inventory): DomainImpact[] {
  return failureDomains(inv).map((d) => blastRadius(inv, d));
}
