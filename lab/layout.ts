import { parseInventory, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { labSubnetPrefix } from '../core/labAddresses.js';

export { isLabAddress, labSubnetPrefix } from '../core/labAddresses.js';

/**
 * The lab's fleet: 13 hosts over 3 zones x 2 racks. The default layout
 * spreads every tier so that the loss of any one rack or zone leaves each tier
 * enough members; the outage-2017 layout puts same-function servers in one
 * rack, as in 2017. Each host is a network namespace of its own (lab/network.ts)
 * with one address 198.18.<octet>.<z><n>: z is the zone's digit (0 for az-a,
 * 1 for az-b, 2 for az-c, so az-b's first db host is .111), n its tier's base
 * plus its rank among that tier's hosts in the zone. 198.18.0.0/15 is set aside
 * for benchmarking networks (RFC 2544) and routed nowhere; the services keep
 * their usual ports.
 */
export const LAB_PORTS = {
  mysql: 3306,
  dbHealth: 9200,
  redis: 6379,
  sentinel: 26379,
  proxyWrite: 3306,
  proxyRead: 3307,
  proxyWeb: 8080,
  app: 8080,
} as const;

export const SENTINEL_MASTER_NAME = 'notifications';

/** The host placements the lab can be brought up with (`gameday lab up --layout <name>`). */
export const LAB_LAYOUT_NAMES = ['spread', 'outage-2017'] as const;
export type LabLayout = (typeof LAB_LAYOUT_NAMES)[number];
export const DEFAULT_LAB_LAYOUT: LabLayout = 'spread';

/** Every layout with a one-line description (for `lab up --help` and game-day reports). */
export const LAB_LAYOUTS: readonly { readonly name: LabLayout; readonly description: string }[] = [
  {
    name: 'spread',
    description: "today's fleet: 3 zones x 2 racks, every tier spread, so losing any one rack or zone leaves each tier enough members",
  },
  {
    name: 'outage-2017',
    description: 'the 2017 replay: rack az-a/a2 holds both proxies, both Redis servers, every app instance and a read replica, so losing a2 is a total outage',
  },
];

export function isLabLayout(value: unknown): value is LabLayout {
  return typeof value === 'string' && (LAB_LAYOUT_NAMES as readonly string[]).includes(value);
}

type LabHostSpec = {
  name: string;
  tier: 'db' | 'redis' | 'sentinel' | 'proxy' | 'app';
  role?: 'primary' | 'replica';
};

/** The same 13 hosts in every layout: names, tiers, roles and services never change; only zone and rack do. */
const HOSTS: LabHostSpec[] = [
  { name: 'db-1', tier: 'db', role: 'primary' },
  { name: 'db-2', tier: 'db', role: 'replica' },
  { name: 'db-3', tier: 'db', role: 'replica' },
  { name: 'redis-1', tier: 'redis', role: 'primary' },
  { name: 'redis-2', tier: 'redis', role: 'replica' },
  { name: 'sentinel-1', tier: 'sentinel' },
  { name: 'sentinel-2', tier: 'sentinel' },
  { name: 'sentinel-3', tier: 'sentinel' },
  { name: 'proxy-1', tier: 'proxy' },
  { name: 'proxy-2', tier: 'proxy' },
  { name: 'app-1', tier: 'app' },
  { name: 'app-2', tier: 'app' },
  { name: 'app-3', tier: 'app' },
];

/** Where a host stands: zone 1..3 (az-a..az-c) and rack 1..2 within it (a1, a2, b1, ...). */
type Place = readonly [zone: 1 | 2 | 3, rack: 1 | 2];

/**
 * Each layout's placement. Both use all six racks, so every "lose rack X" or
 * "lose zone X" scenario names a real domain in either layout.
 *
 * - spread: no rack holds two members of a tier; every rack and zone can be lost.
 * - outage-2017: the 2017 power fault's rack, replayed as az-a/a2: both
 *   proxies, both Redis servers, all three app instances and the read replica
 *   db-3 share it (the fault took both proxies, a replica, the web/API servers
 *   and Redis). The rack name a2 is the one that holds redis-1 and proxy-1 in
 *   spread, so "power off rack a2" is one scenario for both layouts: a failover
 *   in spread, a total outage in outage-2017.
 */
const PLACEMENTS: Record<LabLayout, Record<string, Place>> = {
  spread: {
    'db-1': [1, 1], 'db-2': [2, 1], 'db-3': [3, 1],
    'redis-1': [1, 2], 'redis-2': [2, 2],
    'sentinel-1': [1, 1], 'sentinel-2': [2, 2], 'sentinel-3': [3, 2],
    'proxy-1': [1, 2], 'proxy-2': [3, 1],
    'app-1': [1, 1], 'app-2': [2, 2], 'app-3': [3, 2],
  },
  'outage-2017': {
    'db-1': [1, 1], 'db-2': [2, 1], 'db-3': [1, 2],
    'redis-1': [1, 2], 'redis-2': [1, 2],
    'sentinel-1': [3, 1], 'sentinel-2': [2, 2], 'sentinel-3': [3, 2],
    'proxy-1': [1, 2], 'proxy-2': [1, 2],
    'app-1': [1, 2], 'app-2': [1, 2], 'app-3': [1, 2],
  },
};

/** First host number of each tier in a zone's block: 198.18.<octet>.<(zone - 1) * 100 + base + k>. */
const TIER_BASE: Record<LabHostSpec['tier'], number> = { db: 11, redis: 21, sentinel: 31, proxy: 41, app: 51 };

const ZONE_LETTER = { 1: 'a', 2: 'b', 3: 'c' } as const;

function servicesOf(tier: LabHostSpec['tier']): Record<string, number> {
  switch (tier) {
    case 'db':
      return { mysql: LAB_PORTS.mysql, 'db-health': LAB_PORTS.dbHealth };
    case 'redis':
      return { redis: LAB_PORTS.redis };
    case 'sentinel':
      return { sentinel: LAB_PORTS.sentinel };
    case 'proxy':
      return { 'mysql-write': LAB_PORTS.proxyWrite, 'mysql-read': LAB_PORTS.proxyRead, http: LAB_PORTS.proxyWeb };
    case 'app':
      return { http: LAB_PORTS.app };
  }
}

/** The default third octet of the lab's addresses; tests use another so they never meet a user's lab. */
export const DEFAULT_LAB_OCTET = 20;

/**
 * The lab's inventory (the format in README, "The inventory"), for the lab whose addresses are 198.18.<octet>.x, in one layout.
 * `power`: how its hosts are powered (default `lab`; `ssh` with the ssh driver's options in `drivers`, lab up --power ssh).
 */
export function labInventory(octet: number = DEFAULT_LAB_OCTET, layout: LabLayout = DEFAULT_LAB_LAYOUT, power: { power?: 'lab' | 'ssh'; drivers?: Inventory['drivers'] } = {}): Inventory {
  if (!isLabLayout(layout)) {
    throw new GamedayError('BAD_LAYOUT', `unknown lab layout "${String(layout)}"`, 'layout', `valid layouts: ${LAB_LAYOUT_NAMES.join(', ')}`);
  }
  const placement = PLACEMENTS[layout];
  const taken = new Map<string, number>(); // "<zone>/<tier>" -> hosts placed so far
  const hosts = HOSTS.map((h) => {
    const [zone, rack] = placement[h.name];
    const key = `${zone}/${h.tier}`;
    const k = taken.get(key) ?? 0;
    taken.set(key, k + 1);
    const z = ZONE_LETTER[zone];
    return {
      name: h.name,
      tier: h.tier,
      ...(h.role ? { role: h.role } : {}),
      zone: `az-${z}`,
      rack: `${z}${rack}`,
      address: `${labSubnetPrefix(octet)}.${(zone - 1) * 100 + TIER_BASE[h.tier] + k}`,
      services: servicesOf(h.tier),
      power: power.power ?? 'lab',
    };
  });
  return parseInventory(
    {
      name: 'gameday-lab',
      tiers: {
        db: { kind: 'mariadb', minHealthy: 2 },
        redis: { kind: 'redis', minHealthy: 1 },
        sentinel: { kind: 'sentinel', quorum: 2 },
        proxy: { kind: 'haproxy', minHealthy: 1 },
        app: { kind: 'http', minHealthy: 2 },
      },
      placement: { maxPerRack: 1, minZones: 2 },
      hosts,
      pools: [
        // The write pool lists every db host; its health check passes only on the writable primary.
        { name: 'db-write', backend: 'db_write', proxies: ['proxy-1', 'proxy-2'], servers: ['db-1', 'db-2', 'db-3'] },
        // The read pool's check passes only on replicas that replicate with little lag.
        { name: 'db-read', backend: 'db_read', proxies: ['proxy-1', 'proxy-2'], servers: ['db-1', 'db-2', 'db-3'] },
        { name: 'web', backend: 'web', proxies: ['proxy-1', 'proxy-2'], servers: ['app-1', 'app-2', 'app-3'] },
      ],
      ...(power.drivers ? { drivers: power.drivers } : {}),
    },
    `lab layout ${layout}`,
  );
}
