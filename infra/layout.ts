import type { InventoryInput } from '../topology/index.js';
import type { StackConfig } from './config.js';
import { memberClusterId, placementGroupName, replicationGroupId, slug, TIERS, type TierName } from './naming.js';
import { MAX_PER_GROUP_PER_ZONE, planPlacement, type PlannedMember } from './placementPlan.js';

/**
 * The stack's hosts before any cloud resource exists: names, tiers, roles, zones and racks.
 * The program creates resources from it and the exported inventory is built from it, so the
 * two cannot disagree. Pure.
 */

export interface LayoutHost {
  name: string;
  tier: TierName;
  role?: 'primary' | 'replica';
  zone: string;
  /** Placement group name for EC2 tiers; the node id for ElastiCache, which exposes no racks. */
  rack: string;
  services: Record<string, number>;
}

export interface PlacementGroupLayout {
  name: string;
  tier: TierName;
  index: number;
  members: LayoutHost[];
}

export interface StackLayout {
  stack: string;
  inventoryName: string;
  /** One Auto Scaling group per web placement group. */
  web: PlacementGroupLayout[];
  db: LayoutHost[];
  dbProxy: LayoutHost[];
  redis: LayoutHost[];
  replicationGroupId: string;
  placementGroups: PlacementGroupLayout[];
}

const SERVICES: Record<TierName, Record<string, number>> = {
  web: { http: 80 },
  db: { mysql: 3306 },
  // haproxy-admin: HAProxy's runtime API ("stats socket ipv4@<address>:9999 level admin"), for the reboot job only.
  'db-proxy': { mysql: 3306, 'haproxy-admin': 9999 },
  redis: { redis: 6379 },
};

function ec2Tier(stack: string, tier: TierName, size: number, zones: readonly string[], role?: (m: PlannedMember) => LayoutHost['role']) {
  const plan = planPlacement(size, zones);
  const hosts: LayoutHost[] = plan.map((m) => ({
    name: `${tier}-${m.ordinal}`,
    tier,
    ...(role ? { role: role(m) } : {}),
    zone: m.zone,
    rack: placementGroupName(stack, tier, m.placementGroupIndex),
    services: SERVICES[tier],
  }));
  const groupCount = Math.max(0, ...plan.map((m) => m.placementGroupIndex + 1));
  const groups: PlacementGroupLayout[] = Array.from({ length: groupCount }, (_, index) => ({
    name: placementGroupName(stack, tier, index),
    tier,
    index,
    members: hosts.filter((_, i) => plan[i]!.placementGroupIndex === index),
  }));
  return { hosts, groups };
}

export function stackLayout(stack: string, config: StackConfig): StackLayout {
  const web = ec2Tier(stack, TIERS.web, config.web.count, config.zones);
  const db = ec2Tier(stack, TIERS.db, config.db.count, config.zones, (m) => (m.ordinal === 1 ? 'primary' : 'replica'));
  const dbProxy = ec2Tier(stack, TIERS.dbProxy, config.dbProxy.count, config.zones);
  const rgId = replicationGroupId(stack);
  // ElastiCache places its nodes in the zones listed, in order; the first is created as the primary.
  const redis: LayoutHost[] = planPlacement(config.redis.count, config.zones).map((m) => ({
    name: `redis-${m.ordinal}`,
    tier: TIERS.redis,
    role: m.ordinal === 1 ? 'primary' : 'replica',
    zone: m.zone,
    rack: memberClusterId(rgId, m.ordinal),
    services: SERVICES.redis,
  }));
  return {
    stack,
    inventoryName: `gameday-${slug(stack)}`,
    web: web.groups,
    db: db.hosts,
    dbProxy: dbProxy.hosts,
    redis,
    replicationGroupId: rgId,
    placementGroups: [...web.groups, ...db.groups, ...dbProxy.groups],
  };
}

/** What the cloud tells about one host once it exists (unknown members keep a placeholder). */
export interface HostIdentity {
  address: string;
  id?: string;
}

/** Web members are Auto Scaling slots: their address names the group until the AWS driver resolves it. */
export function asgSlotAddress(asgName: string, host: LayoutHost): string {
  return `asg/${asgName}/${host.name}`;
}

/**
 * The inventory (topology/ shape) of the stack. `identities` maps host names to their addresses
 * and ids; web hosts are keyed by their Auto Scaling group (name → group name).
 */
export function buildInventory(
  layout: StackLayout,
  config: StackConfig,
  identities: Record<string, HostIdentity>,
  webGroupNames: Record<string, string>,
): InventoryInput {
  const host = (h: LayoutHost, identity: HostIdentity, power: 'aws' | 'aws-asg' | 'elasticache' = 'aws') => ({
    name: h.name,
    tier: h.tier,
    ...(h.role ? { role: h.role } : {}),
    zone: h.zone,
    rack: h.rack,
    address: identity.address,
    services: h.services,
    power,
    ...(identity.id ? { id: identity.id } : {}),
  });
  const webHosts = layout.web.flatMap((g) =>
    g.members.map((h) => {
      const asg = webGroupNames[g.name] ?? g.name;
      return host(h, { address: asgSlotAddress(asg, h), id: asg }, 'aws-asg');
    }),
  );
  const identityOf = (h: LayoutHost): HostIdentity => identities[h.name] ?? { address: `${h.name}.unresolved.invalid` };
  const dbHosts = layout.db.map((h) => host(h, identityOf(h)));
  const proxyHosts = layout.dbProxy.map((h) => host(h, identityOf(h)));
  const redisHosts = layout.redis.map((h) => host(h, identityOf(h), 'elasticache'));
  return {
    name: layout.inventoryName,
    tiers: {
      [TIERS.web]: { kind: 'http', minHealthy: config.web.minHealthy },
      [TIERS.db]: { kind: 'mariadb', minHealthy: config.db.minHealthy },
      [TIERS.dbProxy]: { kind: 'haproxy', minHealthy: config.dbProxy.minHealthy },
      [TIERS.redis]: { kind: 'redis', minHealthy: config.redis.minHealthy },
    },
    // Every member of a rack-level spread group is on its own rack: a group may hold up to 7 of a
    // tier per zone. `placement check` treats the loss of a whole group in a zone as one rack loss.
    placement: { maxPerRack: MAX_PER_GROUP_PER_ZONE, minZones: config.minZones },
    hosts: [...webHosts, ...dbHosts, ...proxyHosts, ...redisHosts],
    pools: stackPools(layout.db, layout.dbProxy),
  };
}

/**
 * The HAProxy pools of the stack: every db-proxy serves `db-write` (the primary, replicas as
 * backups) and `db-read` (the replicas). Shared with the policy pack's reconstruction.
 */
export function stackPools(
  db: readonly { name: string; role?: string }[],
  dbProxy: readonly { name: string }[],
): NonNullable<InventoryInput['pools']> {
  if (db.length === 0 || dbProxy.length === 0) return [];
  const proxies = dbProxy.map((h) => h.name);
  const replicas = db.filter((h) => h.role === 'replica').map((h) => h.name);
  return [
    { name: 'db-write', proxies, servers: db.map((h) => h.name), backend: 'db-write' },
    ...(replicas.length > 0 ? [{ name: 'db-read', proxies, servers: replicas, backend: 'db-read' }] : []),
  ];
}
