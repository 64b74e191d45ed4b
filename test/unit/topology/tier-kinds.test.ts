import { describe, expect, it } from 'vitest';
import { clusterPeers, hostsOfKind, kindOf, parseInventory, type InventoryInput } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { whatWarms } from '../../../runbooks/nested/warmStages.js';
import { labInventory } from '../../../lab/layout.js';

/** The bookstore's 2017 fleet in miniature: two MariaDB clusters, two Redis groups, proxies in front, names of its own. */
const bookstore: InventoryInput = {
  name: 'bookstore',
  tiers: {
    'main-db': { kind: 'mariadb' },
    'pub-db': { kind: 'mariadb' },
    'session-redis': { kind: 'redis' },
    'notif-redis': { kind: 'redis' },
    'db-lb': { kind: 'haproxy' },
    storefront: { kind: 'http' },
    batch: {},
  },
  placement: { maxPerRack: 1, minZones: 1 },
  hosts: [
    ...[1, 2, 3].map((n) => ({ name: `main-db-${n}`, tier: 'main-db', role: n === 1 ? ('primary' as const) : ('replica' as const), zone: 'dc1', rack: `r${n}`, address: `10.0.1.${n}`, services: { mysql: 3306 } })),
    ...[1, 2].map((n) => ({ name: `pub-db-${n}`, tier: 'pub-db', role: n === 1 ? ('primary' as const) : ('replica' as const), zone: 'dc1', rack: `r${n}`, address: `10.0.2.${n}`, services: { mysql: 3306 } })),
    ...[1, 2].map((n) => ({ name: `session-${n}`, tier: 'session-redis', zone: 'dc1', rack: `r${n}`, address: `10.0.3.${n}`, services: { redis: 6379 } })),
    ...[1, 2].map((n) => ({ name: `notif-${n}`, tier: 'notif-redis', zone: 'dc1', rack: `r${n}`, address: `10.0.4.${n}`, services: { redis: 6379 } })),
    // HAProxy in front of MariaDB listens on 3306 too: its kind, not its port, says it is no database.
    ...[1, 2].map((n) => ({ name: `db-lb-${n}`, tier: 'db-lb', zone: 'dc1', rack: `r${n}`, address: `10.0.5.${n}`, services: { mysql: 3306 } })),
    { name: 'web-1', tier: 'storefront', zone: 'dc1', rack: 'r1', address: '10.0.6.1', services: { http: 80 } },
    { name: 'batch-1', tier: 'batch', zone: 'dc1', rack: 'r2', address: '10.0.7.1' },
  ],
};

describe('tier kinds: behaviour keys on what runs on a tier, not on its name', () => {
  it('reads each tier\'s declared kind; a proxy on port 3306 is haproxy, not a database', () => {
    const inv = parseInventory(bookstore, 'bookstore');
    expect(hostsOfKind(inv, 'mariadb').map((h) => h.name)).toEqual(['main-db-1', 'main-db-2', 'main-db-3', 'pub-db-1', 'pub-db-2']);
    expect(kindOf(inv, inv.hosts.find((h) => h.name === 'db-lb-1')!)).toBe('haproxy');
    expect(kindOf(inv, inv.hosts.find((h) => h.name === 'batch-1')!)).toBe('generic');
    expect(whatWarms(inv, inv.hosts.find((h) => h.name === 'pub-db-2')!)).toBe('buffer-pool');
    expect(whatWarms(inv, inv.hosts.find((h) => h.name === 'db-lb-2')!)).toBeUndefined();
    expect(whatWarms(inv, inv.hosts.find((h) => h.name === 'notif-2')!)).toBe('redis-data');
  });

  it('keeps each MariaDB cluster to itself: a primary\'s switchover and failover candidates are its own tier\'s', () => {
    const inv = parseInventory(bookstore, 'bookstore');
    const host = (name: string) => inv.hosts.find((h) => h.name === name)!;
    expect(clusterPeers(inv, host('main-db-1')).map((h) => h.name)).toEqual(['main-db-2', 'main-db-3']);
    expect(clusterPeers(inv, host('pub-db-1')).map((h) => h.name)).toEqual(['pub-db-2']);
  });

  it('refuses a tier whose hosts run MariaDB or Redis without a kind, saying what to add', () => {
    const { kind: _, ...noKind } = bookstore.tiers['pub-db'];
    const err = (() => {
      try {
        parseInventory({ ...bookstore, tiers: { ...bookstore.tiers, 'pub-db': noKind } }, 'bookstore.yaml');
      } catch (e) {
        return e as GamedayError;
      }
    })();
    expect(err).toBeInstanceOf(GamedayError);
    expect(err!.message).toContain('tiers.pub-db.kind: its hosts run mysql; say what the tier is (kind: mariadb');
    expect(err!.input).toBe('bookstore.yaml');
  });

  it('reads inventories written before kinds by the tier names the toolkit always used', () => {
    const old = parseInventory(
      {
        name: 'old',
        tiers: { db: {}, redis: {}, sentinel: {}, proxy: {}, app: {} },
        placement: { minZones: 1 },
        hosts: ['db', 'redis', 'sentinel', 'proxy', 'app'].map((tier, i) => ({ name: `${tier}-1`, tier, zone: 'z', rack: `r${i}`, address: `10.1.0.${i + 1}`, services: tier === 'db' ? { mysql: 3306 } : {} })),
      },
      'old.yaml',
    );
    expect(old.hosts.map((h) => kindOf(old, h))).toEqual(['mariadb', 'redis', 'sentinel', 'haproxy', 'http']);
    // The lab's own inventory says its kinds.
    const lab = labInventory(20);
    expect(Object.fromEntries(Object.entries(lab.tiers).map(([t, spec]) => [t, spec.kind]))).toEqual({ db: 'mariadb', redis: 'redis', sentinel: 'sentinel', proxy: 'haproxy', app: 'http' });
  });
});
