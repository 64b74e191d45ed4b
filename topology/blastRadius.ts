import { failureDomains, type Domain } from './domains.js';
import type { Host, Inventory, Tier } from './schema.js';

/** What losing one domain does to one tier. */
export interface TierImpact {
  tier: string;
  total: number;
  /** Its hosts in the domain, in inventory order. */
  lost: string[];
  /** How many are left. */
  leftCount: number;
  /** The survivors by name: only when asked ({ survivors: true }); at fleet scale the lists are the size of the fleet for every domain. */
  left?: string[];
  holds: boolean;
  /** Why it breaks (empty when it holds). */
  breaks: string[];
  /** What keeps it going, worth knowing (e.g. "promote db-2"). */
  notes: string[];
}

/** What losing one domain does to one load-balancer pool. */
export interface PoolImpact {
  pool: string;
  serversLeftCount: number;
  proxiesLeftCount: number;
  /** By name, only when asked ({ survivors: true }). */
  serversLeft?: string[];
  proxiesLeft?: string[];
  holds: boolean;
  breaks: string[];
}

/** Whether a loss touched a pool: it breaks, or has fewer servers or proxies than the inventory gives it. */
export function poolTouched(inv: Inventory, p: PoolImpact): boolean {
  const pool = inv.pools.find((x) => x.name === p.pool);
  return !p.holds || p.serversLeftCount < new Set(pool?.servers).size || p.proxiesLeftCount < new Set(pool?.proxies).size;
}

export interface DomainImpact {
  domain: Domain;
  tiers: TierImpact[];
  pools: PoolImpact[];
  holds: boolean;
}

export interface BlastRadiusOptions {
  /** Name every survivor of every tier and pool (default: counts only). */
  survivors?: boolean;
}

/**
 * What the analysis needs of an inventory, built once per inventory: each
 * domain then costs its own hosts plus one pass over the tiers and pools,
 * not a pass over the fleet (10,000 hosts have some 10,000 domains).
 */
interface Index {
  position: Map<string, number>;
  tierOf: Map<string, string>;
  members: Map<string, Host[]>;
  primary: Map<string, Host>;
  /** Pools each host serves in or fronts, by pool index. */
  poolsOf: Map<string, Array<{ pool: number; as: 'server' | 'proxy' }>>;
  /** Distinct servers and proxies of each pool, by pool index. */
  poolSizes: Array<{ servers: number; proxies: number }>;
}

/** Inventories are values: parsed once and never changed afterwards, so an index per object stays true. */
const indexes = new WeakMap<Inventory, Index>();

function indexOf(inv: Inventory): Index {
  let ix = indexes.get(inv);
  if (ix) return ix;
  ix = { position: new Map(), tierOf: new Map(), members: new Map(), primary: new Map(), poolsOf: new Map(), poolSizes: [] };
  for (const tier of Object.keys(inv.tiers)) {
    ix.members.set(tier, []);
  }
  inv.hosts.forEach((h, i) => {
    ix!.position.set(h.name, i);
    ix!.tierOf.set(h.name, h.tier);
    ix!.members.get(h.tier)?.push(h);
    if (h.role === 'primary' && !ix!.primary.has(h.tier)) ix!.primary.set(h.tier, h);
  });
  const addPool = (host: string, entry: { pool: number; as: 'server' | 'proxy' }) => {
    const list = ix!.poolsOf.get(host);
    if (list) list.push(entry);
    else ix!.poolsOf.set(host, [entry]);
  };
  inv.pools.forEach((p, i) => {
    const servers = new Set(p.servers);
    const proxies = new Set(p.proxies);
    for (const s of servers) addPool(s, { pool: i, as: 'server' });
    for (const s of proxies) addPool(s, { pool: i, as: 'proxy' });
    ix!.poolSizes.push({ servers: servers.size, proxies: proxies.size });
  });
  indexes.set(inv, ix);
  return ix;
}

/** At most a few names, then how many more: a note must stay a line at any fleet size. */
function someOf(names: string[], max = 5): string {
  return names.length <= max ? names.join(' or ') : `${names.slice(0, max).join(', ')} or ${names.length - max} more`;
}

function listOf(names: string[], max = 10): string {
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

function tierImpact(ix: Index, tier: string, spec: Tier, lost: string[], dead: Set<string>, domainName: string, survivors: boolean): TierImpact {
  const members = ix.members.get(tier) ?? [];
  const leftCount = members.length - lost.length;
  const breaks: string[] = [];
  const notes: string[] = [];

  // A tier without explicit needs still needs one member left.
  const minHealthy = spec.minHealthy ?? (spec.quorum === undefined ? 1 : undefined);
  if (minHealthy !== undefined && leftCount < minHealthy) {
    breaks.push(`${leftCount} of ${members.length} left, minHealthy is ${minHealthy}`);
  }
  if (spec.quorum !== undefined) {
    // Sentinel: quorum agrees the primary is down; a majority of all must vote to fail over.
    const majority = Math.floor(members.length / 2) + 1;
    if (leftCount < spec.quorum) breaks.push(`${leftCount} of ${members.length} left, below quorum ${spec.quorum}`);
    else if (leftCount < majority) breaks.push(`${leftCount} of ${members.length} left, no majority (${majority}) to elect a failover leader`);
  }
  const primary = ix.primary.get(tier);
  if (primary && dead.has(primary.name)) {
    // Only the domains that hold the primary (its host, rack and zone) pay for naming the replicas.
    const promotable = members.filter((h) => h.role === 'replica' && !dead.has(h.name)).map((h) => h.name);
    if (promotable.length === 0) breaks.push(`primary ${primary.name} lost and no replica outside ${domainName} to promote`);
    else notes.push(`primary ${primary.name} lost: promote ${someOf(promotable)}`);
  }
  return {
    tier,
    total: members.length,
    lost,
    leftCount,
    ...(survivors ? { left: members.filter((h) => !dead.has(h.name)).map((h) => h.name) } : {}),
    holds: breaks.length === 0,
    breaks,
    notes,
  };
}

function poolImpact(pool: Inventory['pools'][number], size: Index['poolSizes'][number], serversLost: number, proxiesLost: number, dead: Set<string>, survivors: boolean): PoolImpact {
  const serversLeftCount = size.servers - serversLost;
  const proxiesLeftCount = size.proxies - proxiesLost;
  const breaks: string[] = [];
  if (serversLeftCount === 0) breaks.push(`no server left (${listOf(pool.servers)} all lost)`);
  if (proxiesLeftCount === 0) breaks.push(`no proxy left (${listOf(pool.proxies)} all lost)`);
  return {
    pool: pool.name,
    serversLeftCount,
    proxiesLeftCount,
    ...(survivors ? { serversLeft: pool.servers.filter((s) => !dead.has(s)), proxiesLeft: pool.proxies.filter((p) => !dead.has(p)) } : {}),
    holds: breaks.length === 0,
    breaks,
  };
}

/** What the loss of one domain takes from every tier and pool, and whether each still holds. */
export function blastRadius(inv: Inventory, domain: Domain, opts: BlastRadiusOptions = {}): DomainImpact {
  const ix = indexOf(inv);
  const dead = new Set(domain.hosts);
  const lostByTier = new Map<string, string[]>();
  const serversLost = new Map<number, number>();
  const proxiesLost = new Map<number, number>();
  for (const name of dead) {
    const tier = ix.tierOf.get(name);
    if (tier !== undefined) {
      const lost = lostByTier.get(tier);
      if (lost) lost.push(name);
      else lostByTier.set(tier, [name]);
    }
    for (const { pool, as } of ix.poolsOf.get(name) ?? []) {
      const counts = as === 'server' ? serversLost : proxiesLost;
      counts.set(pool, (counts.get(pool) ?? 0) + 1);
    }
  }
  for (const lost of lostByTier.values()) lost.sort((a, b) => ix.position.get(a)! - ix.position.get(b)!);
  const survivors = opts.survivors ?? false;
  const tiers = Object.entries(inv.tiers).map(([tier, spec]) => tierImpact(ix, tier, spec, lostByTier.get(tier) ?? [], dead, domain.name, survivors));
  const pools = inv.pools.map((p, i) => poolImpact(p, ix.poolSizes[i], serversLost.get(i) ?? 0, proxiesLost.get(i) ?? 0, dead, survivors));
  return { domain, tiers, pools, holds: tiers.every((t) => t.holds) && pools.every((p) => p.holds) };
}

/** Blast radius of every zone, rack and host. */
export function blastRadiusOfAll(inv: Inventory, opts: BlastRadiusOptions = {}): DomainImpact[] {
  return failureDomains(inv).map((d) => blastRadius(inv, d, opts));
}
