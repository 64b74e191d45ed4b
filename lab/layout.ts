import { parseInventory, type Inventory } from '../topology/index.js';

/**
 * The lab's fleet: 3 zones x 2 racks, every tier spread so that the loss of
 * any one rack or zone leaves each tier enough members. Each host is one
 * loopback address 127.<prefix>.<zone>.<n>; the services keep their usual ports.
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

type LabHostSpec = {
  name: string;
  tier: 'db' | 'redis' | 'sentinel' | 'proxy' | 'app';
  role?: 'primary' | 'replica';
  zone: 1 | 2 | 3;
  rack: 1 | 2;
  n: number;
};

const HOSTS: LabHostSpec[] = [
  { name: 'db-1', tier: 'db', role: 'primary', zone: 1, rack: 1, n: 11 },
  { name: 'db-2', tier: 'db', role: 'replica', zone: 2, rack: 1, n: 11 },
  { name: 'db-3', tier: 'db', role: 'replica', zone: 3, rack: 1, n: 11 },
  { name: 'redis-1', tier: 'redis', role: 'primary', zone: 1, rack: 2, n: 21 },
  { name: 'redis-2', tier: 'redis', role: 'replica', zone: 2, rack: 2, n: 21 },
  { name: 'sentinel-1', tier: 'sentinel', zone: 1, rack: 1, n: 31 },
  { name: 'sentinel-2', tier: 'sentinel', zone: 2, rack: 2, n: 31 },
  { name: 'sentinel-3', tier: 'sentinel', zone: 3, rack: 2, n: 31 },
  { name: 'proxy-1', tier: 'proxy', zone: 1, rack: 2, n: 41 },
  { name: 'proxy-2', tier: 'proxy', zone: 3, rack: 1, n: 41 },
  { name: 'app-1', tier: 'app', zone: 1, rack: 1, n: 51 },
  { name: 'app-2', tier: 'app', zone: 2, rack: 2, n: 51 },
  { name: 'app-3', tier: 'app', zone: 3, rack: 2, n: 51 },
];

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

/** The default second octet of the lab's addresses; tests use another so they never meet a user's lab. */
export const DEFAULT_LAB_OCTET = 20;

/** The lab's inventory (DESIGN.md shape), for the lab whose addresses are 127.<octet>.x.y. */
export function labInventory(octet: number = DEFAULT_LAB_OCTET): Inventory {
  return parseInventory(
    {
      name: 'gameday-lab',
      tiers: {
        db: { minHealthy: 2 },
        redis: { minHealthy: 1 },
        sentinel: { quorum: 2 },
        proxy: { minHealthy: 1 },
        app: { minHealthy: 2 },
      },
      placement: { maxPerRack: 1, minZones: 2 },
      hosts: HOSTS.map((h) => {
        const z = ZONE_LETTER[h.zone];
        return {
          name: h.name,
          tier: h.tier,
          ...(h.role ? { role: h.role } : {}),
          zone: `az-${z}`,
          rack: `${z}${h.rack}`,
          address: `127.${octet}.${h.zone}.${h.n}`,
          services: servicesOf(h.tier),
          power: 'lab' as const,
        };
      }),
      pools: [
        // The write pool lists every db host; its health check passes only on the writable primary.
        { name: 'db-write', backend: 'db_write', proxies: ['proxy-1', 'proxy-2'], servers: ['db-1', 'db-2', 'db-3'] },
        // The read pool's check passes only on replicas that replicate with little lag.
        { name: 'db-read', backend: 'db_read', proxies: ['proxy-1', 'proxy-2'], servers: ['db-1', 'db-2', 'db-3'] },
        { name: 'web', backend: 'web', proxies: ['proxy-1', 'proxy-2'], servers: ['app-1', 'app-2', 'app-3'] },
      ],
    },
    'lab layout',
  );
}
