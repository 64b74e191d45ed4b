/**
 * Names and tags shared by the program, the inventory it exports and the policy pack that reads
 * the resources back. Pure.
 */

/** Tag keys: tools (FIS, the reboot job, the AWS power driver) target instances by these. */
export const TAG = {
  stack: 'gameday:stack',
  tier: 'tier',
  role: 'role',
  /** The availability zone; on resources that span zones, every zone, separated by spaces. */
  zone: 'zone',
  /** The rack-level spread placement group (the inventory's `rack`). */
  rack: 'rack',
  minHealthy: 'gameday:min-healthy',
  minZones: 'gameday:min-zones',
} as const;

/** Inventory tier names (topology/ style) of the stack's tiers. */
export const TIERS = { web: 'web', db: 'db', dbProxy: 'db-proxy', redis: 'redis' } as const;
export type TierName = (typeof TIERS)[keyof typeof TIERS];

/** A stack name reduced to what AWS names and inventory names accept: lowercase letters, digits, dashes. */
export function slug(stack: string): string {
  const s = stack
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  return s === '' ? 'stack' : s;
}

/** The name of a tier's n-th (0-based) placement group; it is also the inventory's rack. */
export function placementGroupName(stack: string, tier: TierName, index: number): string {
  return `gameday-${slug(stack)}-${tier}-${index + 1}`;
}

/** ElastiCache replication group id: at most 40 characters, starting with a letter. */
export function replicationGroupId(stack: string): string {
  return `gd-${slug(stack)}`.slice(0, 34).replace(/-$/, '') + '-redis';
}

/** ElastiCache names the n-th (1-based) node of a replication group `<id>-00n`. */
export function memberClusterId(rgId: string, ordinal: number): string {
  return `${rgId}-${String(ordinal).padStart(3, '0')}`;
}

export interface TagSpec {
  tier: string;
  role: string;
  zone?: string;
  rack?: string;
  name?: string;
  extra?: Record<string, string>;
}

/** The tags of one resource: stack, tier, role, and zone and rack where it has them. */
export function tagsFor(stack: string, spec: TagSpec): Record<string, string> {
  const tags: Record<string, string> = {
    [TAG.stack]: stack,
    [TAG.tier]: spec.tier,
    [TAG.role]: spec.role,
  };
  if (spec.zone !== undefined) tags[TAG.zone] = spec.zone;
  if (spec.rack !== undefined) tags[TAG.rack] = spec.rack;
  if (spec.name !== undefined) tags.Name = spec.name;
  return { ...tags, ...spec.extra };
}
