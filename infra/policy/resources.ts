import type { Host, InventoryInput } from '../../topology/index.js';
import { stackPools } from '../layout.js';
import { TAG } from '../naming.js';
import { MAX_PER_GROUP_PER_ZONE, planPlacement } from '../placementPlan.js';

/**
 * Rebuilds the stack's inventory from the resources the policy pack sees (their inputs, as the
 * program declared them), so that the checks of topology/ can judge what is about to be deployed,
 * not what the program claims in its output. Pure.
 */

/** The part of a Pulumi policy resource this needs. */
export interface StackResource {
  type: string;
  name: string;
  urn: string;
  props: Record<string, any>;
}

export const TYPES = {
  instance: 'aws:ec2/instance:Instance',
  autoScalingGroup: 'aws:autoscaling/group:Group',
  placementGroup: 'aws:ec2/placementGroup:PlacementGroup',
  replicationGroup: 'aws:elasticache/replicationGroup:ReplicationGroup',
  experimentTemplate: 'aws:fis/experimentTemplate:ExperimentTemplate',
} as const;

function isUnknownValueError(err: unknown): boolean {
  return err instanceof Error && err.constructor.name === 'UnknownValueError';
}

/** Reads a property that may be unknown during a preview (the policy SDK throws on those). */
export function known<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    if (isUnknownValueError(err)) return undefined;
    throw err;
  }
}

/** Whether a property will only be known once deployed (a preview of a value computed by AWS). */
export function isUnknown(read: () => unknown): boolean {
  try {
    read();
    return false;
  } catch (err) {
    if (isUnknownValueError(err)) return true;
    throw err;
  }
}

/** Tags as a map, from either an EC2-style map or an Auto Scaling list of {key, value}. */
export function tagsOf(r: StackResource): Record<string, string> {
  const tags = known(() => r.props.tags);
  if (Array.isArray(tags)) {
    const out: Record<string, string> = {};
    for (const t of tags) {
      const key = known(() => t.key);
      const value = known(() => t.value);
      if (typeof key === 'string' && typeof value === 'string') out[key] = value;
    }
    return out;
  }
  if (tags && typeof tags === 'object') {
    return Object.fromEntries(Object.keys(tags).flatMap((k) => {
      const v = known(() => tags[k]);
      return typeof v === 'string' ? [[k, v]] : [];
    }));
  }
  return {};
}

/** A resource of the inventory: the hosts it stands for, and where the policy should point. */
export interface ReconstructedHost extends Pick<Host, 'name' | 'tier' | 'zone' | 'rack' | 'address'> {
  role?: 'primary' | 'replica';
  /** The resource the host comes from (an instance, an Auto Scaling group, a replication group). */
  urn: string;
}

const NO_GROUP = 'no-placement-group';
const UNKNOWN_ZONE = 'unknown-zone';

function text(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The hosts the stack's resources stand for, one per instance, Auto Scaling slot or cache node. */
export function hostsFromResources(resources: readonly StackResource[]): ReconstructedHost[] {
  const hosts: ReconstructedHost[] = [];
  for (const r of resources) {
    const tags = tagsOf(r);
    const tier = tags[TAG.tier];
    if (r.type === TYPES.instance && tier) {
      const role = tags[TAG.role];
      hosts.push({
        name: r.name,
        tier,
        ...(role === 'primary' || role === 'replica' ? { role } : {}),
        zone: text(known(() => r.props.availabilityZone)) ?? tags[TAG.zone] ?? UNKNOWN_ZONE,
        rack: text(known(() => r.props.placementGroup)) ?? tags[TAG.rack] ?? NO_GROUP,
        address: text(known(() => r.props.privateIp)) ?? `${r.name}.pending.invalid` /* not known before apply; .invalid is reserved (RFC 2606), so it can never resolve */,
        urn: r.urn,
      });
    } else if (r.type === TYPES.autoScalingGroup && tier) {
      // Auto Scaling balances a group over its zones as the plan does: round-robin.
      const zones = (tags[TAG.zone] ?? UNKNOWN_ZONE).split(' ').filter(Boolean);
      const size = Number(known(() => r.props.desiredCapacity) ?? known(() => r.props.minSize) ?? 0);
      const rack = text(known(() => r.props.placementGroup)) ?? tags[TAG.rack] ?? NO_GROUP;
      for (const m of planPlacement(Number.isInteger(size) && size > 0 ? size : 0, zones)) {
        const name = `${r.name}-${m.ordinal}`;
        hosts.push({ name, tier, zone: m.zone, rack, address: `asg/${r.name}/${name}`, urn: r.urn });
      }
    } else if (r.type === TYPES.replicationGroup && tier) {
      const count = Number(known(() => r.props.numCacheClusters) ?? 1);
      const azs = (known(() => r.props.preferredCacheClusterAzs) as unknown[] | undefined) ?? [];
      const id = text(known(() => r.props.replicationGroupId)) ?? r.name;
      for (let i = 1; i <= count; i++) {
        hosts.push({
          name: `${tier}-${i}`,
          tier,
          role: i === 1 ? 'primary' : 'replica',
          zone: text(known(() => azs[i - 1])) ?? UNKNOWN_ZONE,
          // ElastiCache shows no racks: each node is its own.
          rack: `${id}-${String(i).padStart(3, '0')}`,
          address: `${id}-${String(i).padStart(3, '0')}`,
          urn: r.urn,
        });
      }
    }
  }
  return hosts;
}

/** The inventory (topology/ shape) of the stack's resources, with each tier's needs read from its tags. */
export function inventoryFromResources(resources: readonly StackResource[], name = 'stack'): { inventory: InventoryInput; hosts: ReconstructedHost[] } {
  const hosts = hostsFromResources(resources);
  const tiers: InventoryInput['tiers'] = {};
  for (const r of resources) {
    const tags = tagsOf(r);
    const tier = tags[TAG.tier];
    if (!tier || !hosts.some((h) => h.tier === tier)) continue;
    const minHealthy = Number(tags[TAG.minHealthy] ?? 1);
    const minZones = Number(tags[TAG.minZones] ?? 2);
    const prev = tiers[tier];
    tiers[tier] = {
      minHealthy: Math.max(prev?.minHealthy ?? 1, Number.isInteger(minHealthy) && minHealthy > 0 ? minHealthy : 1),
      placement: {
        maxPerRack: MAX_PER_GROUP_PER_ZONE,
        minZones: Math.max(prev?.placement?.minZones ?? 2, Number.isInteger(minZones) && minZones > 0 ? minZones : 2),
      },
    };
  }
  const byTier = (t: string) => hosts.filter((h) => h.tier === t);
  return {
    hosts,
    inventory: {
      name,
      tiers,
      placement: { maxPerRack: MAX_PER_GROUP_PER_ZONE },
      hosts: hosts.map(({ urn: _urn, ...h }) => h),
      pools: stackPools(byTier('db'), byTier('db-proxy')),
    },
  };
}
