import type { Host, Inventory, TierKind } from './schema.js';

/**
 * What runs on a tier. A tier says it with `kind`; inventories written before
 * kinds existed are read by the tier names this toolkit has always used
 * (db, redis, sentinel, proxy / db-proxy / lb, app / web), so they keep
 * working. Any other tier without a kind is generic: rebooted with no
 * hand-off and ready once it answers, which is wrong for a database: a tier
 * whose hosts run MariaDB or Redis must say its kind (checkKinds).
 */
const KIND_OF_CONVENTIONAL_NAME: Record<string, TierKind> = {
  db: 'mariadb',
  redis: 'redis',
  sentinel: 'sentinel',
  proxy: 'haproxy',
  'db-proxy': 'haproxy',
  lb: 'haproxy',
  app: 'http',
  web: 'http',
};

export function tierKind(inv: Inventory, tier: string): TierKind {
  return inv.tiers[tier]?.kind ?? KIND_OF_CONVENTIONAL_NAME[tier] ?? 'generic';
}

export function kindOf(inv: Inventory, host: Host): TierKind {
  return tierKind(inv, host.tier);
}

export function hostsOfKind(inv: Inventory, kind: TierKind): Host[] {
  return inv.hosts.filter((h) => kindOf(inv, h) === kind);
}

/** Services whose hosts cannot be generic: a reboot without hand-off would take their primary down. */
const REPLICATED_SERVICES: Record<string, TierKind> = { mysql: 'mariadb', redis: 'redis', sentinel: 'sentinel' };

/**
 * Tiers that need a kind and have none: their hosts run MariaDB, Redis or
 * Sentinel, but neither a kind nor a conventional name says so. One message
 * per tier, naming what to add.
 */
export function checkKinds(inv: Inventory): string[] {
  const problems: string[] = [];
  for (const tier of Object.keys(inv.tiers)) {
    if (inv.tiers[tier].kind !== undefined || KIND_OF_CONVENTIONAL_NAME[tier] !== undefined) continue;
    const services = new Set(inv.hosts.filter((h) => h.tier === tier).flatMap((h) => Object.keys(h.services)));
    const suggested = [...services].map((s) => REPLICATED_SERVICES[s]).find(Boolean);
    if (suggested) {
      problems.push(
        `tiers.${tier}.kind: its hosts run ${[...services].filter((s) => s in REPLICATED_SERVICES).join(', ')}; say what the tier is (kind: ${suggested}, or haproxy for a proxy in front of it; one of mariadb, redis, sentinel, haproxy, http, generic)`,
      );
    }
  }
  return problems;
}
