import { kindOf, tierKind } from './kinds.js';
import type { Host, Inventory, Tier } from './schema.js';

/*
 * Replication clusters: the MariaDB and Redis groups of an inventory, each
 * with one primary. A tier belongs to one cluster (its `cluster`, default
 * its own name); several tiers may form one cluster. Switchovers, peers,
 * warm-up sources and readiness stay inside a cluster.
 */

export type ClusterKind = 'mariadb' | 'redis';

export interface ReplicationCluster {
  name: string;
  kind: ClusterKind;
  tiers: string[];
  hosts: Host[];
  /** Redis: the name the Sentinels monitor its primary by (undefined: the fleet's default). */
  sentinelMaster?: string;
  /** Redis: the Sentinels that watch it. */
  sentinels: Host[];
}

const isClusterKind = (kind: string): kind is ClusterKind => kind === 'mariadb' || kind === 'redis';

/** The cluster a host's tier belongs to: its `cluster`, else the tier's name. */
export function clusterNameOf(inv: Inventory, host: Host): string {
  return inv.tiers[host.tier]?.cluster ?? host.tier;
}

const clustersCache = new WeakMap<Inventory, ReplicationCluster[]>();

/** Every replication cluster of the inventory, in the order their tiers are declared. */
export function replicationClusters(inv: Inventory): ReplicationCluster[] {
  const cached = clustersCache.get(inv);
  if (cached) return cached;
  const byKey = new Map<string, ReplicationCluster>();
  const allSentinels = inv.hosts.filter((h) => kindOf(inv, h) === 'sentinel');
  for (const [tier, spec] of Object.entries(inv.tiers) as Array<[string, Tier]>) {
    const kind = tierKind(inv, tier);
    if (!isClusterKind(kind)) continue;
    const name = spec.cluster ?? tier;
    const key = `${kind}/${name}`;
    let cluster = byKey.get(key);
    if (!cluster) {
      const sentinels = kind === 'redis' ? (spec.sentinels ? inv.hosts.filter((h) => h.tier === spec.sentinels) : allSentinels) : [];
      cluster = { name, kind, tiers: [], hosts: [], sentinels, ...(spec.sentinelMaster ? { sentinelMaster: spec.sentinelMaster } : {}) };
      byKey.set(key, cluster);
    }
    cluster.tiers.push(tier);
  }
  const clusterOfTier = new Map<string, ReplicationCluster>();
  for (const c of byKey.values()) for (const t of c.tiers) clusterOfTier.set(t, c);
  for (const h of inv.hosts) clusterOfTier.get(h.tier)?.hosts.push(h);
  const clusters = [...byKey.values()];
  clustersCache.set(inv, clusters);
  return clusters;
}

/** The replication cluster of a MariaDB or Redis host; undefined for other kinds. */
export function clusterOf(inv: Inventory, host: Host): ReplicationCluster | undefined {
  return replicationClusters(inv).find((c) => c.tiers.includes(host.tier));
}

/** The other members of a host's replication cluster (for other kinds: the other hosts of its tier). */
export function clusterPeers(inv: Inventory, host: Host): Host[] {
  const cluster = clusterOf(inv, host);
  return (cluster?.hosts ?? inv.hosts.filter((h) => h.tier === host.tier)).filter((h) => h.name !== host.name);
}

/**
 * What the schema cannot check about clusters: fields on tiers of the wrong
 * kind, a Sentinel tier that is not one, one Sentinel group asked to monitor
 * two clusters under one master name, a cluster with two declared primaries.
 */
export function checkClusters(inv: Inventory): string[] {
  const problems: string[] = [];
  for (const [tier, spec] of Object.entries(inv.tiers) as Array<[string, Tier]>) {
    const kind = tierKind(inv, tier);
    const only = (field: keyof Tier, kinds: string[]) => {
      if (spec[field] !== undefined && !kinds.includes(kind)) problems.push(`tiers.${tier}.${field}: only for ${kinds.join(' or ')} tiers (this tier is ${kind}); remove it`);
    };
    only('cluster', ['mariadb', 'redis']);
    only('sentinelMaster', ['redis']);
    only('sentinels', ['redis']);
    only('admin', ['mariadb']);
    only('replication', ['mariadb']);
    only('password', ['redis', 'sentinel']);
    if (spec.sentinels !== undefined && kind === 'redis') {
      if (!inv.tiers[spec.sentinels]) problems.push(`tiers.${tier}.sentinels: unknown tier "${spec.sentinels}"; name the tier of the Sentinels that watch this cluster`);
      else if (tierKind(inv, spec.sentinels) !== 'sentinel') problems.push(`tiers.${tier}.sentinels: tier "${spec.sentinels}" is ${tierKind(inv, spec.sentinels)}, not sentinel`);
    }
  }
  const redis = replicationClusters(inv).filter((c) => c.kind === 'redis');
  const seen = new Map<string, string>();
  for (const c of redis) {
    const master = c.sentinelMaster ?? '(default)';
    for (const s of c.sentinels) {
      const key = `${s.name}/${master}`;
      const other = seen.get(key);
      if (other && other !== c.name) {
        problems.push(`tiers.${c.tiers[0]}.sentinelMaster: Redis clusters ${other} and ${c.name} are both watched by ${s.name} under the master name ${master}; give each its own sentinelMaster`);
        break;
      }
      seen.set(key, c.name);
    }
  }
  for (const c of replicationClusters(inv)) {
    const primaries = c.hosts.filter((h) => h.role === 'primary');
    if (primaries.length > 1 && c.tiers.length > 1) problems.push(`tiers.${c.tiers[0]}.cluster: cluster ${c.name} has ${primaries.length} hosts with role primary (${primaries.map((h) => h.name).join(', ')}); at most one may`);
  }
  return problems;
}
