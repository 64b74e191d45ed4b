import { randomInt } from 'node:crypto';
import { findDomain, type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { ResolvedFault } from '../../drivers/faults/types.js';
import type { FaultSpec, ScenarioTarget } from '../scenario/schema.js';

function zonesOf(inv: Inventory): string[] {
  return [...new Set(inv.hosts.map((h) => h.zone))].sort();
}

/**
 * The live primary of each tier that a `{ primary: <tier> }` target names,
 * looked up just before the game day (chaos/probes/livePrimaries.ts), or why
 * it is not known.
 */
export type LivePrimaries = Record<string, { host: string; /** The servers that replicate now (MariaDB), when known. */ replicas?: string[] } | { unknown: string }>;

/** A `{ primary: <tier> }` target: the live primary; without a live view (a plan made offline), the inventory's, and the label says so. */
function primaryTarget(inv: Inventory, tier: string, input: string, live: LivePrimaries | undefined): { label: string; hosts: string[]; livePrimaryOf?: string } {
  const kind = inv.tiers[tier]?.kind;
  if (kind !== 'mariadb' && kind !== 'redis') {
    const tiers = Object.entries(inv.tiers).filter(([, t]) => t.kind === 'mariadb' || t.kind === 'redis').map(([n]) => n);
    throw new GamedayError('SCENARIO_TARGET', `tier "${tier}" ${kind ? `is ${kind}, which has no primary` : `is not in inventory ${inv.name}`}`, input, `tiers with a primary: ${tiers.join(', ') || 'none'}`);
  }
  if (!live) {
    const named = inv.hosts.find((h) => h.tier === tier && h.role === 'primary');
    if (!named) throw new GamedayError('SCENARIO_TARGET', `no host of tier "${tier}" has role primary in inventory ${inv.name}, and the live primary is looked up only when the game day runs`, input, 'run the game day, or give the primary a role in the inventory');
    return { label: `${named.name} (the ${tier} primary in the inventory; the live one is looked up when the game day runs)`, hosts: [named.name], livePrimaryOf: tier };
  }
  const found = live[tier];
  if (!found || 'unknown' in found) {
    throw new GamedayError('SCENARIO_TARGET', `the live primary of tier ${tier} is not known: ${found ? found.unknown : 'it was not looked up'}; nothing was touched`, input, 'look at the fleet (gameday lab status), let it settle, and run the game day again');
  }
  return { label: `${found.host} (the live primary of ${tier})`, hosts: [found.host], livePrimaryOf: tier };
}

/** The hosts a target names in this inventory; a random target is drawn here, once; a primary is the live one when `live` is given. */
export function resolveTarget(inv: Inventory, target: ScenarioTarget, input: string, pick: (n: number) => number = randomInt, live?: LivePrimaries): { label: string; hosts: string[]; livePrimaryOf?: string } {
  if ('primary' in target) return primaryTarget(inv, target.primary, input, live);
  if ('tier' in target) {
    const members = inv.hosts.filter((h) => h.tier === target.tier).map((h) => h.name);
    if (members.length === 0) throw new GamedayError('SCENARIO_TARGET', `no host of tier "${target.tier}" in inventory ${inv.name}`, input, `tiers: ${Object.keys(inv.tiers).join(', ')}`);
    return { label: `tier ${target.tier}`, hosts: members };
  }
  if ('random' in target) {
    const { tier, role } = target.random;
    // A role is the live one when the fleet was asked (a failover moves the primary); else the inventory's.
    const known = role && live ? live[tier] : undefined;
    if (known && 'unknown' in known) {
      throw new GamedayError('SCENARIO_TARGET', `the live primary of tier ${tier} is not known: ${known.unknown}, so its ${role}s are not known either; nothing was touched`, input, 'look at the fleet (gameday lab status), let it settle, and run the game day again');
    }
    const liveRole = (h: Host, k: { host: string; replicas?: string[] }) => (role === 'primary' ? h.name === k.host : h.name !== k.host && (k.replicas?.includes(h.name) ?? true));
    const hasRole = (h: Host) => (role === undefined ? true : known ? liveRole(h, known) : h.role === role);
    const members = inv.hosts.filter((h) => h.tier === tier && hasRole(h));
    if (members.length === 0) {
      const tiers = Object.keys(inv.tiers).join(', ');
      throw new GamedayError('SCENARIO_TARGET', `no host of tier "${tier}"${role ? ` with role ${role}` : ''} in inventory ${inv.name}`, input, `tiers: ${tiers}`);
    }
    const chosen = members[pick(members.length)];
    return { label: `${chosen.name} (a random ${role ?? 'member'} of ${tier})`, hosts: [chosen.name] };
  }
  const [kind, name] = Object.entries(target)[0] as ['host' | 'rack' | 'zone', string];
  const domain = findDomain(inv, name);
  if (!domain || domain.kind !== kind) {
    const names = kind === 'host' ? inv.hosts.map((h) => h.name) : kind === 'zone' ? zonesOf(inv) : [...new Set(inv.hosts.map((h) => h.rack))];
    throw new GamedayError('SCENARIO_TARGET', `no ${kind} "${name}" in inventory ${inv.name}`, input, `${kind}s: ${names.join(', ')}`);
  }
  return { label: `${kind} ${name}`, hosts: domain.hosts };
}

/** The tiers whose live primary a scenario's faults depend on (`{ primary: <tier> }`, or a random member by role): what to look up before planning. */
export const primaryTiersOf = (faults: FaultSpec[]) =>
  [...new Set(faults.flatMap(targetsOf).flatMap((t) => ('primary' in t ? [t.primary] : 'random' in t && t.random.role ? [t.random.tier] : [])))];

/** Every target a fault names (a network fault names two ends). */
function targetsOf(f: FaultSpec): ScenarioTarget[] {
  const ends = [('target' in f ? f.target : undefined), ('from' in f ? f.from : undefined), ('to' in f ? f.to : undefined), ('peers' in f ? f.peers : undefined)];
  return ends.filter((t): t is ScenarioTarget => t !== undefined);
}

/** Every host but these: a network fault's default other end. */
function othersThan(inv: Inventory, hosts: string[]): { label: string; hosts: string[] } {
  return { label: 'every other host', hosts: inv.hosts.map((h) => h.name).filter((n) => !hosts.includes(n)) };
}

/** Both ends of a network fault: no host on both, and neither empty. */
function disjointSides(a: string[], b: string[], input: string): [string[], string[]] {
  const other = b.filter((h) => !a.includes(h));
  if (other.length === 0) throw new GamedayError('SCENARIO_TARGET', 'the fault has no host at its other end (both ends are the same hosts)', input, 'name other hosts, or leave it out for every other host');
  return [a, other];
}

/** Every fault of a scenario against one inventory: hosts known, random targets drawn, primaries the live ones when `live` is given. */
export function resolveFaults(inv: Inventory, faults: FaultSpec[], pick?: (n: number) => number, live?: LivePrimaries): ResolvedFault[] {
  return faults.map((f, i) => {
    const input = `faults[${i}] (${f.id})`;
    const base = { id: f.id!, type: f.type, atMs: f.at, forMs: f.for };
    switch (f.type) {
      case 'power-off':
        return { ...base, ...resolveTarget(inv, f.target, input, pick, live) };
      case 'kill-process': {
        const t = resolveTarget(inv, f.target, input, pick, live);
        const missing = t.hosts.filter((h) => !(f.service in inv.hosts.find((x) => x.name === h)!.services));
        if (missing.length) throw new GamedayError('SCENARIO_TARGET', `${missing.join(', ')} run no service "${f.service}"`, `${input}.service`, 'name a service of the target host in the inventory');
        return { ...base, ...t, label: `${f.service} on ${t.label}`, service: f.service };
      }
      case 'stop-replication': {
        const t = resolveTarget(inv, f.target, input, pick, live);
        const notDb = t.hosts.filter((h) => !('mysql' in inv.hosts.find((x) => x.name === h)!.services));
        if (notDb.length) throw new GamedayError('SCENARIO_TARGET', `${notDb.join(', ')} run no MariaDB`, `${input}.target`, 'stop replication on a db replica');
        return { ...base, ...t, label: `${f.thread} thread of ${t.label}`, thread: f.thread };
      }
      case 'partition': {
        const [a, b] = f.between;
        for (const z of f.between) {
          if (!zonesOf(inv).includes(z)) throw new GamedayError('SCENARIO_TARGET', `no zone "${z}" in inventory ${inv.name}`, `${input}.between`, `zones: ${zonesOf(inv).join(', ')}`);
        }
        if (a === b) throw new GamedayError('SCENARIO_TARGET', 'a partition needs two different zones', `${input}.between`, 'name two zones');
        const sideA = inv.hosts.filter((h) => h.zone === a).map((h) => h.name);
        const sideB = inv.hosts.filter((h) => h.zone === b).map((h) => h.name);
        return { ...base, label: `${a} | ${b}`, hosts: [...sideA, ...sideB], sides: [sideA, sideB] as [string[], string[]] };
      }
      case 'one-way': {
        const from = resolveTarget(inv, f.from, `${input}.from`, pick, live);
        const to = f.to ? resolveTarget(inv, f.to, `${input}.to`, pick, live) : othersThan(inv, from.hosts);
        const sides = disjointSides(from.hosts, to.hosts, `${input}.to`);
        return { ...base, label: `${from.label} -> ${to.label}`, hosts: [...sides[0], ...sides[1]], sides };
      }
      case 'loss': {
        const t = resolveTarget(inv, f.target, input, pick, live);
        const peers = f.peers ? resolveTarget(inv, f.peers, `${input}.peers`, pick, live) : othersThan(inv, t.hosts);
        const sides = disjointSides(t.hosts, peers.hosts, `${input}.peers`);
        return { ...base, label: `${f.percent} % of packets, ${t.label} <-> ${peers.label}`, hosts: t.hosts, sides, percent: f.percent };
      }
      case 'latency': {
        const t = resolveTarget(inv, f.target, input, pick, live);
        const peers = f.peers ? resolveTarget(inv, f.peers, `${input}.peers`, pick, live) : othersThan(inv, t.hosts);
        const sides = disjointSides(t.hosts, peers.hosts, `${input}.peers`);
        const jitter = f.jitter ? ` ± ${f.jitter}` : '';
        return { ...base, label: `+${f.ms}${jitter} ms round trip, ${t.label} <-> ${peers.label}`, hosts: t.hosts, sides, delayMs: f.ms, jitterMs: f.jitter };
      }
      case 'bandwidth': {
        const t = resolveTarget(inv, f.target, input, pick, live);
        return { ...base, ...t, label: `${t.label} at ${f.rate}`, rate: f.rate };
      }
      case 'redis-data-loss': {
        const redis = inv.hosts.filter((h) => 'redis' in h.services).map((h) => h.name);
        if (redis.length === 0) throw new GamedayError('SCENARIO_TARGET', `inventory ${inv.name} has no Redis`, input, 'a Redis data loss needs hosts with a redis service');
        return { ...base, label: 'every Redis restarted empty', hosts: redis };
      }
    }
  });
}
