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

type PoolIndex = ReturnType<typeof poolIndex>;

const bump = <K>(m: Map<K, number>, k: K) => m.set(k, (m.get(k) ?? 0) + 1);

/** Appends to the list under a key, in first-seen order of the keys. */
function pushTo<K, V>(m: Map<K, V[]>, key: K, value: V): void {
  const list = m.get(key);
  if (list) list.push(value);
  else m.set(key, [value]);
}

/** What every wave of one plan is held to: the limits of each tier, replication cluster and pool. */
interface WaveRules {
  inv: Inventory;
  maxPerWave: number;
  tiers: Map<string, TierState>;
  pools: PoolIndex;
  /** Members of a replication cluster that spans several tiers: the cluster's key and its limit per wave. */
  spreadCluster: Map<string, { key: string; limit: number }>;
  /** For a Redis host, the Sentinels that watch its cluster; for a Sentinel, the Redis hosts it watches: never in one wave. */
  watchPairs: Map<string, Set<string>>;
}

/** Redis hosts and the Sentinels that watch them, both ways: a wave with both could reboot the Sentinel asked to fail over. */
function watchPairs(inv: Inventory): WaveRules['watchPairs'] {
  const pairs = new Map<string, Set<string>>();
  const link = (a: string, b: string) => pairs.set(a, (pairs.get(a) ?? new Set()).add(b));
  for (const c of replicationClusters(inv)) {
    if (c.kind !== 'redis') continue;
    for (const r of c.hosts) for (const sentinel of c.sentinels) {
      link(r.name, sentinel.name);
      link(sentinel.name, r.name);
    }
  }
  return pairs;
}

/**
 * A cluster split over several tiers keeps to the tightest of its tiers' limits as a whole:
 * one member of a MariaDB or Redis cluster a wave by default, whichever tier it is in.
 */
function spreadClusters(inv: Inventory, tiers: Map<string, TierState>): WaveRules['spreadCluster'] {
  const spreadCluster = new Map<string, { key: string; limit: number }>();
  for (const c of replicationClusters(inv)) {
    if (c.tiers.length < 2) continue;
    const limit = Math.min(...c.tiers.map((t) => tiers.get(t)?.limit.perWave ?? 1));
    for (const m of c.hosts) spreadCluster.set(m.name, { key: `${c.kind}/${c.name}`, limit });
  }
  return spreadCluster;
}

/** Whether a host's loss alone breaks its tier (nothing may go, or a primary with no replica) or a pool (its last server or proxy). */
function breaksAlone(rules: WaveRules, h: Host): boolean {
  const t = rules.tiers.get(h.tier);
  if (t && (t.maxLoss < 1 || (t.primary === h.name && t.replicas === 0))) return true;
  const { pools } = rules;
  return (pools.of.get(h.name) ?? []).some(({ pool, as }) => (as === 'server' ? pools.sizes[pool].servers : pools.sizes[pool].proxies) <= 1);
}

/** Why a host alone breaks: the full analysis, run only for the (few) refused hosts, naming its own tier and pools. */
function whyAlone(rules: WaveRules, h: Host): string {
  const { inv, pools } = rules;
  const impact = blastRadius(inv, { kind: 'host', name: h.name, hosts: [h.name] });
  const mine = new Set((pools.of.get(h.name) ?? []).map((p) => inv.pools[p.pool].name));
  const why = [
    ...impact.tiers.filter((t) => t.tier === h.tier).flatMap((t) => t.breaks.map((b) => `tier ${t.tier}: ${b}`)),
    ...impact.pools.filter((p) => mine.has(p.pool)).flatMap((p) => p.breaks.map((b) => `pool ${p.pool}: ${b}`)),
  ];
  return why.join('; ');
}

/** Whether the wave may take the host too: room left, no Redis with a Sentinel that watches it, its cluster's and tier's limits kept, a replica left for a primary down, a server and a proxy left in each of its pools. */
function fits(rules: WaveRules, w: WaveState, h: Host): boolean {
  if (w.hosts.length >= rules.maxPerWave) return false;
  const watch = rules.watchPairs.get(h.name);
  if (watch && w.hosts.some((x) => watch.has(x.name))) return false;
  const c = rules.spreadCluster.get(h.name);
  if (c && (w.clusterLost.get(c.key) ?? 0) + 1 > c.limit) return false;
  const t = rules.tiers.get(h.tier);
  if (t) {
    if ((w.lost.get(t.name) ?? 0) + 1 > t.limit.perWave) return false;
    const replicasDown = (w.replicasDown.get(t.name) ?? 0) + (h.role === 'replica' ? 1 : 0);
    const primaryDown = w.primaryDown.has(t.name) || t.primary === h.name;
    if (primaryDown && t.replicas - replicasDown < 1) return false;
  }
  for (const { pool, as } of rules.pools.of.get(h.name) ?? []) {
    const size = rules.pools.sizes[pool];
    if (as === 'server' ? (w.serversLost.get(pool) ?? 0) + 1 >= size.servers : (w.proxiesLost.get(pool) ?? 0) + 1 >= size.proxies) return false;
  }
  return true;
}

/** Puts the host in the wave and counts what the wave now takes from its cluster, tier and pools. */
function addToWave(rules: WaveRules, w: WaveState, h: Host): void {
  w.hosts.push(h);
  const c = rules.spreadCluster.get(h.name);
  if (c) bump(w.clusterLost, c.key);
  const t = rules.tiers.get(h.tier);
  if (t) {
    bump(w.lost, t.name);
    if (h.role === 'replica') bump(w.replicasDown, t.name);
    if (t.primary === h.name) w.primaryDown.add(t.name);
  }
  for (const { pool, as } of rules.pools.of.get(h.name) ?? []) bump(as === 'server' ? w.serversLost : w.proxiesLost, pool);
}

const kindRank = (rules: WaveRules, h: Host) => KIND_ORDER.indexOf(kindOf(rules.inv, h));
const isPrimary = (rules: WaveRules, h: Host) => (rules.tiers.get(h.tier)?.primary === h.name ? 1 : 0);
/** The order inside a wave: easy kinds first (KIND_ORDER), a tier's primary after its other hosts, then by name. */
const inWave = (rules: WaveRules) => (a: Host, b: Host) => kindRank(rules, a) - kindRank(rules, b) || isPrimary(rules, a) - isPrimary(rules, b) || byName(a.name, b.name);

/**
 * A zone's waves being filled: `rounds` of them to start with, more when a
 * host fits in none. `place` puts a host in the first wave at or after
 * `target` that it fits in, else the first before it, else a new one.
 */
function waveFiller(rules: WaveRules, zone: string, rounds: number) {
  const waves: WaveState[] = [];
  const newWave = (): WaveState => ({ zone, hosts: [], lost: new Map(), replicasDown: new Map(), primaryDown: new Set(), serversLost: new Map(), proxiesLost: new Map(), clusterLost: new Map() });
  for (let i = 0; i < rounds; i++) waves.push(newWave());
  // next[i]: a wave at or after i that may have room (union-find over the full ones), so a full wave is skipped once, not once per host.
  const next: number[] = waves.map((_, i) => i);
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
      for (let j = firstWithRoom(from); j < to; j = firstWithRoom(j + 1)) if (fits(rules, waves[j], h)) return j;
      return -1;
    };
    let j = scan(target, waves.length);
    if (j < 0) j = scan(0, target);
    if (j < 0) {
      waves.push(newWave());
      next.push(next.length);
      j = waves.length - 1;
    }
    addToWave(rules, waves[j], h);
    if (waves[j].hosts.length >= rules.maxPerWave) next[j] = j + 1;
  };
  return { waves, place };
}

/**
 * The waves of one zone: as few as its tightest limit allows (the most waves
 * any of its tiers needs, or its hosts over maxPerWave), each tier's hosts
 * spread evenly over them, a tier's primary last.
 */
function planZone(rules: WaveRules, zone: string, zoneHosts: Host[]): Wave[] {
  const byTier = new Map<string, Host[]>();
  for (const h of zoneHosts) pushTo(byTier, h.tier, h);
  const perWave = (tier: string) => rules.tiers.get(tier)?.limit.perWave ?? rules.maxPerWave;
  const needs = (tier: string) => Math.ceil(byTier.get(tier)!.length / perWave(tier));
  const rounds = Math.max(Math.ceil(zoneHosts.length / rules.maxPerWave), ...[...byTier.keys()].map(needs));
  const filler = waveFiller(rules, zone, rounds);

  // The tightest tiers first, so their spread is the even one; stateful before stateless on a tie.
  const order = [...byTier.keys()].sort((a, b) => needs(b) - needs(a) || kindRank(rules, byTier.get(b)![0]) - kindRank(rules, byTier.get(a)![0]) || byName(a, b));
  // Where the next tier without a primary starts its spread: where the last one ended, so that
  // the waves that get one host more than the others are not the same ones for every tier.
  let start = 0;
  for (const tier of order) {
    // Replicas and the rest by name, the primary last: it goes after its tier's other members of the zone.
    const members = byTier.get(tier)!.sort((a, b) => isPrimary(rules, a) - isPrimary(rules, b) || byName(a.name, b.name));
    const hasPrimary = members.some((h) => isPrimary(rules, h) === 1);
    const offset = hasPrimary ? 0 : start;
    members.forEach((h, i) => filler.place(h, (offset + Math.floor((i * rounds) / members.length)) % rounds));
    if (!hasPrimary) start = (start + members.length) % rounds;
  }
  return filler.waves.filter((w) => w.hosts.length).map((w) => ({ zone, hosts: w.hosts.sort(inWave(rules)).map((h) => h.name) }));
}

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
  const rules: WaveRules = { inv, maxPerWave, tiers, pools: poolIndex(inv), spreadCluster: spreadClusters(inv, tiers), watchPairs: watchPairs(inv) };

  const refused: WavePlan['refused'] = [];
  const byZone = new Map<string, Host[]>();
  for (const h of hosts) {
    if (breaksAlone(rules, h)) refused.push({ host: h.name, reason: whyAlone(rules, h) });
    else pushTo(byZone, h.zone, h);
  }
  const waves = [...byZone.keys()].sort().flatMap((zone) => planZone(rules, zone, byZone.get(zone)!));

  const planned = new Set(hosts.map((h) => h.tier));
  const limits = [...tiers.values()].filter((t) => planned.has(t.name)).map((t) => t.limit);
  return { waves, refused, limits, maxPerWave };
}
