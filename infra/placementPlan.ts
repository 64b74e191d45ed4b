/**
 * Where each member of a tier goes: which zone, and which rack-level spread placement group.
 * Pure, so every tier size and zone count can be checked without Pulumi.
 *
 * - Zones are filled round-robin, so the counts of any two zones differ by at most one.
 * - A rack-level spread group puts each member on its own rack, but holds at most
 *   7 running instances per zone (the AWS limit): the 8th member of a tier in a zone
 *   opens the tier's next group.
 */

/** The AWS limit: running instances per availability zone in one rack-level spread placement group. */
export const MAX_PER_GROUP_PER_ZONE = 7;

export interface PlannedMember {
  /** 1-based position in the tier: member 3 of web is "web-3". */
  ordinal: number;
  zone: string;
  /** 0-based index of the tier's placement group. */
  placementGroupIndex: number;
}

export function planPlacement(size: number, zones: readonly string[]): PlannedMember[] {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`tier size must be a whole number, got ${size}`);
  if (zones.length === 0) throw new RangeError('at least one zone is needed');
  const inZone = new Map<string, number>();
  const plan: PlannedMember[] = [];
  for (let i = 0; i < size; i++) {
    const zone = zones[i % zones.length]!;
    const before = inZone.get(zone) ?? 0;
    inZone.set(zone, before + 1);
    plan.push({ ordinal: i + 1, zone, placementGroupIndex: Math.floor(before / MAX_PER_GROUP_PER_ZONE) });
  }
  return plan;
}

/** How many placement groups a tier of `size` members over `zoneCount` zones needs. */
export function placementGroupCount(size: number, zoneCount: number): number {
  return Math.ceil(Math.ceil(size / zoneCount) / MAX_PER_GROUP_PER_ZONE);
}

/** The members of one placement group of a plan. */
export function membersOfGroup(plan: readonly PlannedMember[], groupIndex: number): PlannedMember[] {
  return plan.filter((m) => m.placementGroupIndex === groupIndex);
}
