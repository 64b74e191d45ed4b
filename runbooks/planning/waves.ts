import { blastRadius, kindOf, replicationClusters, tierKind, type Host, type Inventory, type Tier, type TierKind } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';

export interface Wave {
  zone: string;
  hosts: string[];
}

/** How many members of one tier a wave may take down, and what decided it. */
export interface TierLimit {
  tier: string;
  kind: TierKind;
  /** Its members in the whole inventory. */
  members: number;
  /** At most this many of them in one wave. */
  perWave: number;
  /** What set perWave, in words: "maxUnavailable 50% of 12 = 6", "mariadb: 1 unless maxUnavailable says more", "minHealthy 2 of 12: 10 may go". */
  by: string;
}

export interface WavePlan {
  waves: Wave[];
  /** Hosts that cannot be taken down at all without breaking a tier, with the reason. */
  refused: Array<{ host: string; reason: string }>;
  /** The per-wave limit of every tier that has a planned host, tier by tier. */
  limits: TierLimit[];
  /** The global limit the plan was made with: hosts in one wave. */
  maxPerWave: number;
}

export interface PlanWavesOptions {
  /** At most this many hosts in one wave, all tiers together (default DEFAULT_MAX_PER_WAVE). */
  maxPerWave?: number;
}

/**
 * 50 hosts down at once: at 10,000 hosts a fifth of a percent of the fleet,
 * and about as many reboots, drains and warm-ups as one operator can follow
 * in a wave's progress output.
 */
export const DEFAULT_MAX_PER_WAVE = 50;

/**
 * Kinds that lose one member per wave unless the tier's maxUnavailable says
 * more. MariaDB, Redis and Sentinel hold state or votes: each member going
 * down costs a switchover, a resync or a vote, and two at once can leave a
 * cluster without a caught-up replica or Sentinel without a majority while
 * the first is still catching up. HAProxy too, by decision: a proxy's hand-off
 * moves all of its clients onto the other proxies of its pools, and the pools
 * usually have two; the blast radius only asks that one proxy be left, which
 * says nothing about whether it carries everyone's connections. Taking proxies
 * one at a time keeps a surviving proxy's load at most one peer's worth above
 * normal. http and generic tiers, stateless, lose as many as the blast radius
 * (minHealthy, pools) and the per-wave limit allow.
 */
const ONE_AT_A_TIME_BY_DEFAULT: ReadonlySet<TierKind> = new Set(['mariadb', 'redis', 'sentinel', 'haproxy']);

/** Hosts that hold traffic or state go last in a wave, so the easy ones prove the path first (when a wave's hosts run one after another). */
const KIND_ORDER: TierKind[] = ['generic', 'http', 'sentinel', 'haproxy', 'redis', 'mariadb'];

const byName = new Intl.Collator('en', { numeric: true }).compare;

/** The maxUnavailable of a tier as a count: a count as given, a percentage of its members rounded down but at least 1; undefined when absent. */
export function maxUnavailableCount(spec: Pick<Tier, 'maxUnavailable'> | undefined, members: number): number | undefined {
  const m = spec?.maxUnavailable;
  if (m === undefined) return undefined;
  if (typeof m === 'number') return m;
  return Math.max(1, Math.floor((members * Number(m.slice(0, -1))) / 100));
}

/** What the planner keeps of a tier: its size, its limit per wave, and who can be promoted. */
interface TierState {
  name: string;
  members: number;
  /** Members its blast radius lets go at once (minHealthy, quorum and majority); below 1, any loss breaks it. */
  maxLoss: number;
  lossBy: string;
  limit: TierLimit;
  /** The tier's primary as the blast radius sees it (its first host with role primary). */
  primary?: string;
  /** Members with role replica: the ones a lost primary can be promoted from. */
  replicas: number;
}

/** One wave being filled: its counts per tier and per pool, so that a candidate is checked in the time of its own tier and pools. */
interface WaveState {
  zone: string;
  hosts: Host[];
  lost: Map<string, number>;
  replicasDown: Map<string, number>;
  primaryDown: Set<string>;
  serversLost: Map<number, number>;
  proxiesLost: Map<number, number>;
  /** Members down of each replication cluster that spans several tiers. */
  clusterLost: Map<string, number>;
}

function tierStates(inv: Inventory, maxPerWave: number): Map<string, TierState> {
  const counts = new Map<string, { members: number; replicas: number; primary?: string }>();
  for (const tier of Object.keys(inv.tiers)) counts.set(tier, { members: 0, replicas: 0 });
  for (const h of inv.hosts) {
    const c = counts.get(h.tier);
    if (!c) continue;
    c.members++;
    if (h.role === 'replica') c.replicas++;
    if (h.role === 'primary' && c.primary === undefined) c.primary = h.name;
  }
  const states = new Map<string, TierState>();
  for (const [tier, c] of counts) {
    const spec = inv.tiers[tier];
    // The same needs as the blast-radius analysis (topology/blastRadius.ts), as a count of members that may go.
    const minHealthy = spec.minHealthy ?? (spec.quorum === undefined ? 1 : undefined);
    let need = 0;
    let needBy = '';
    if (minHealthy !== undefined) [need, needBy] = [minHealthy, `minHealthy ${minHealthy}`];
    if (spec.quorum !== undefined) {
      const majority = Math.floor(c.members / 2) + 1;
      if (spec.quorum > need) [need, needBy] = [spec.quorum, `quorum ${spec.quorum}`];
      if (majority > need) [need, needBy] = [majority, `a majority (${majority})`];
    }
    const maxLoss = c.members - need;
    const lossBy = `${needBy} of ${c.members}: ${Math.max(0, maxLoss)} may go`;
    const kind = tierKind(inv, tier);
    const declared = maxUnavailableCount(spec, c.members);
    const [cap, capBy] =
      declared !== undefined
        ? [declared, typeof spec.maxUnavailable === 'string' ? `maxUnavailable ${spec.maxUnavailable} of ${c.members} = ${declared}` : `maxUnavailable ${declared}`]
        : ONE_AT_A_TIME_BY_DEFAULT.has(kind)
          ? [1, `${kind}: 1 unless maxUnavailable says more`]
          : [Infinity, ''];
    // The tightest of the three decides, and says so.
    let perWave = maxPerWave;
    let by = `at most ${maxPerWave} hosts a wave`;
    if (cap <= perWave) [perWave, by] = [cap, capBy];
    if (maxLoss < perWave) [perWave, by] = [Math.max(0, maxLoss), lossBy];
    states.set(tier, {
      name: tier,
      members: c.members,
      maxLoss,
      lossBy,
      limit: { tier, kind, members: c.members, perWave, by },
      primary: c.primary,
      replicas: c.replicas,
    });
  }
  return states;
}

/** The pools each host serves in or fronts, and each pool's distinct servers and proxies (as the blast radius counts them). */
function poolIndex(inv: Inventory) {
  const of = new Map<string, Array<{ pool: number; as: 'server' | 'proxy' }>>();
  const sizes: Array<{ servers: number; proxies: number }> = [];
  const add = (host: string, entry: { pool: number; as: 'server' | 'proxy' }) => {
    const list = of.get(host);
    if (list) list.push(entry);
    else of.set(host, [entry]);
  };
  inv.pools.forEach((p, i) => {
    const servers = new Set(p.servers);
    const proxies = new Set(p.proxies);
    for (const s of servers) add(s, { pool: i, as: 'server' });
    for (const s of proxies) add(s, { pool: i, as: 'proxy' });
    sizes.push({ servers: servers.size, proxies: proxies.size });
  });
  return { of, sizes };
}

const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

/**
 * Plans reboot waves.
 *
 * - One zone at a time: every wave is of one zone (its `zone`), and a zone's
 *   waves all come before the next zone's.
 * - Inside a wave, hosts of different tiers and clusters go together.
 * - A tier loses at most its limit per wave: its `maxUnavailable` (a count, or
 *   a percentage of its members rounded down but at least 1); without one, 1
 *   for mariadb, redis, sentinel and haproxy tiers (ONE_AT_A_TIME_BY_DEFAULT
 *   says why), and as many as the blast radius allows for http and generic.
 * - The whole wave passes the blast-radius analysis (topology/blastRadius.ts):
 *   every tier keeps minHealthy, quorum and a majority, a lost primary leaves a
 *   replica to promote, every pool keeps a server and a proxy. It is checked
 *   with counts per tier and pool, kept per wave, not by analysing each
 *   candidate wave again: planning stays close to linear in the host count.
 * - At most `maxPerWave` hosts in a wave (default DEFAULT_MAX_PER_WAVE).
 *
 * A zone gets as few waves as its tightest limit allows (the most waves any of
 * its tiers needs, or its hosts over maxPerWave), and each tier's hosts are
 * spread evenly over them, a tier's primary last; a host that does not fit
 * where its spread puts it goes to the next wave with room, or a new one.
 * Inside a wave, hosts are listed easy ones first (KIND_ORDER), primaries last.
 * A host whose loss alone breaks its tier or a pool is refused, with the reason
 * (that tier's or pool's; a tier that breaks even with nothing lost, such as
 * minHealthy above its member count, refuses its own hosts, not everyone's).
 * Zones are never mixed in a wave: there is no option for it yet, and a wave
 * across zones is one whose loss, on top of a zone outage, nothing checked.
 */
export function planWaves(inv: Inventory, hostNames: string[], opts: PlanWavesOptions = {}): WavePlan {
  const maxPerWave = opts.maxPerWave ?? DEFAULT_MAX_PER_WAVE;
  if (!Number.isInteger(maxPerWave) || maxPerWave < 1) {
    throw new GamedayError('BAD_PARAM', `at most ${maxPerWave} hosts a wave: must be a whole number of 1 or more`, 'maxPerWave', 'e.g. 50');
  }
  const wanted = new Set(hostNames);
  const hosts = inv.hosts.filter((h) => wanted.has(h.name));
  const tiers = tierStates(inv, maxPerWave);
  const pools = poolIndex(inv);
  const refused: WavePlan['refused'] = [];

  const breaksAlone = (h: Host): boolean => {
    const t = tiers.get(h.tier);
    if (t && (t.maxLoss < 1 || (t.primary === h.name && t.replicas === 0))) return true;
    return (pools.of.get(h.name) ?? []).some(({ pool, as }) => (as === 'server' ? pools.sizes[pool].servers : pools.sizes[pool].proxies) <= 1);
  };
  /** Why a host alone breaks: the full analysis, run only for the (few) refused hosts, naming its own tier and pools. */
  const whyAlone = (h: Host): string => {
    const impact = blastRadius(inv, { kind: 'host', name: h.name, hosts: [h.name] });
    const mine = new Set((pools.of.get(h.name) ?? []).map((p) => inv.pools[p.pool].name));
    const why = [
      ...impact.tiers.filter((t) => t.tier === h.tier).flatMap((t) => t.breaks.map((b) => `tier ${t.tier}: ${b}`)),
      ...impact.pools.filter((p) => mine.has(p.pool)).flatMap((p) => p.breaks.map((b) => `pool ${p.pool}: ${b}`)),
    ];
    return why.join('; ');
  };

  // A cluster split over several tiers keeps to the tightest of its tiers' limits as a whole:
  // one member of a MariaDB or Redis cluster a wave by default, whichever tier it is in.
  const spreadCluster = new Map<string, { key: string; limit: number }>();
  for (const c of replicationClusters(inv)) {
    if (c.tiers.length < 2) continue;
    const limit = Math.min(...c.tiers.map((t) => tiers.get(t)?.limit.perWave ?? 1));
    for (const m of c.hosts) spreadCluster.set(m.name, { key: `${c.kind}/${c.name}`, limit });
  }

  const fits = (w: WaveState, h: Host): boolean => {
    if (w.hosts.length >= maxPerWave) return false;
    const c = spreadCluster.get(h.name);
    if (c && (w.clusterLost.get(c.key) ?? 0) + 1 > c.limit) return false;
    const t = tiers.get(h.tier);
    if (t) {
      if ((w.lost.get(t.name) ?? 0) + 1 > t.limit.perWave) return false;
      const replicasDown = (w.replicasDown.get(t.name) ?? 0) + (h.role === 'replica' ? 1 : 0);
      const primaryDown = w.primaryDown.has(t.name) || t.primary === h.name;
      if (primaryDown && t.replicas - replicasDown < 1) return false;
    }
    for (const { pool, as } of pools.of.get(h.name) ?? []) {
      const size = pools.sizes[pool];
      if (as === 'server' ? (w.serversLost.get(pool) ?? 0) + 1 >= size.servers : (w.proxiesLost.get(pool) ?? 0) + 1 >= size.proxies) return false;
    }
    return true;
  };
  const add = (w: WaveState, h: Host) => {
    w.hosts.push(h);
    const c = spreadCluster.get(h.name);
    if (c) bump(w.clusterLost, c.key);
    const t = tiers.get(h.tier);
    if (t) {
      bump(w.lost, t.name);
      if (h.role === 'replica') bump(w.replicasDown, t.name);
      if (t.primary === h.name) w.primaryDown.add(t.name);
    }
    for (const { pool, as } of pools.of.get(h.name) ?? []) bump(as === 'server' ? w.serversLost : w.proxiesLost, pool);
  };

  const kindRank = (h: Host) => KIND_ORDER.indexOf(kindOf(inv, h));
  const isPrimary = (h: Host) => (tiers.get(h.tier)?.primary === h.name ? 1 : 0);
  const inWave = (a: Host, b: Host) => kindRank(a) - kindRank(b) || isPrimary(a) - isPrimary(b) || byName(a.name, b.name);

  const byZone = new Map<string, Host[]>();
  for (const h of hosts) {
    if (breaksAlone(h)) {
      refused.push({ host: h.name, reason: whyAlone(h) });
      continue;
    }
    const list = byZone.get(h.zone);
    if (list) list.push(h);
    else byZone.set(h.zone, [h]);
  }

  const waves: Wave[] = [];
  for (const zone of [...byZone.keys()].sort()) {
    const zoneHosts = byZone.get(zone)!;
    const byTier = new Map<string, Host[]>();
    for (const h of zoneHosts) {
      const list = byTier.get(h.tier);
      if (list) list.push(h);
      else byTier.set(h.tier, [h]);
    }
    const perWave = (tier: string) => tiers.get(tier)?.limit.perWave ?? maxPerWave;
    const needs = (tier: string) => Math.ceil(byTier.get(tier)!.length / perWave(tier));
    const rounds = Math.max(Math.ceil(zoneHosts.length / maxPerWave), ...[...byTier.keys()].map(needs));

    const zw: WaveState[] = [];
    const newWave = (): WaveState => ({ zone, hosts: [], lost: new Map(), replicasDown: new Map(), primaryDown: new Set(), serversLost: new Map(), proxiesLost: new Map(), clusterLost: new Map() });
    for (let i = 0; i < rounds; i++) zw.push(newWave());
    // next[i]: a wave at or after i that may have room (union-find over the full ones), so a full wave is skipped once, not once per host.
    const next: number[] = zw.map((_, i) => i);
    const firstWithRoom = (i: number): number => {
      let r = i;
      while (r < next.length && next[r] !== r) r = next[r];
      for (let j = i; j < next.length && next[j] !== j; ) {
        const up = next[j];
        next[j] = r;
        j = up;
      }
      return r;
    };
    const place = (h: Host, target: number) => {
      const scan = (from: number, to: number) => {
        for (let j = firstWithRoom(from); j < to; j = firstWithRoom(j + 1)) if (fits(zw[j], h)) return j;
        return -1;
      };
      let j = scan(target, zw.length);
      if (j < 0) j = scan(0, target);
      if (j < 0) {
        zw.push(newWave());
        next.push(next.length);
        j = zw.length - 1;
      }
      add(zw[j], h);
      if (zw[j].hosts.length >= maxPerWave) next[j] = j + 1;
    };

    // The tightest tiers first, so their spread is the even one; stateful before stateless on a tie.
    const order = [...byTier.keys()].sort((a, b) => needs(b) - needs(a) || kindRank(byTier.get(b)![0]) - kindRank(byTier.get(a)![0]) || byName(a, b));
    // Where the next tier without a primary starts its spread: where the last one ended, so that
    // the waves that get one host more than the others are not the same ones for every tier.
    let start = 0;
    for (const tier of order) {
      // Replicas and the rest by name, the primary last: it goes after its tier's other members of the zone.
      const members = byTier.get(tier)!.sort((a, b) => isPrimary(a) - isPrimary(b) || byName(a.name, b.name));
      const hasPrimary = members.some((h) => isPrimary(h) === 1);
      const offset = hasPrimary ? 0 : start;
      members.forEach((h, i) => place(h, (offset + Math.floor((i * rounds) / members.length)) % rounds));
      if (!hasPrimary) start = (start + members.length) % rounds;
    }
    for (const w of zw) if (w.hosts.length) waves.push({ zone, hosts: w.hosts.sort(inWave).map((h) => h.name) });
  }

  const planned = new Set(hosts.map((h) => h.tier));
  const limits = [...tiers.values()].filter((t) => planned.has(t.name)).map((t) => t.limit);
  return { waves, refused, limits, maxPerWave };
}
