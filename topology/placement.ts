import { rackId } from './domains.js';
import { DEFAULT_PLACEMENT, type Inventory, type PlacementRules } from './schema.js';

export interface PlacementViolation {
  tier: string;
  rule: 'maxPerRack' | 'minZones';
  message: string;
}

/** The rules in force for a tier: the tier's own, else the inventory's, else the defaults. */
export function rulesFor(inv: Inventory, tier: string): Required<PlacementRules> {
  return {
    maxPerRack: inv.tiers[tier]?.placement?.maxPerRack ?? inv.placement.maxPerRack ?? DEFAULT_PLACEMENT.maxPerRack,
    minZones: inv.tiers[tier]?.placement?.minZones ?? inv.placement.minZones ?? DEFAULT_PLACEMENT.minZones,
  };
}

/** Checks every tier against its placement rules (hosts per rack, zones spanned). */
export function placementViolations(inv: Inventory): PlacementViolation[] {
  const violations: PlacementViolation[] = [];
  for (const tier of Object.keys(inv.tiers)) {
    const rules = rulesFor(inv, tier);
    const members = inv.hosts.filter((h) => h.tier === tier);
    const byRack = new Map<string, string[]>();
    for (const h of members) {
      const rack = byRack.get(rackId(h));
      if (rack) rack.push(h.name);
      else byRack.set(rackId(h), [h.name]);
    }
    for (const [rack, hosts] of byRack) {
      if (hosts.length > rules.maxPerRack) {
        violations.push({
          tier,
          rule: 'maxPerRack',
          message: `${tier}: ${hosts.length} hosts share rack ${rack} (${hosts.join(', ')}); at most ${rules.maxPerRack} allowed`,
        });
      }
    }
    const zones = [...new Set(members.map((h) => h.zone))].sort();
    if (members.length > 0 && zones.length < rules.minZones) {
      violations.push({
        tier,
        rule: 'minZones',
        message: `${tier}: spans ${zones.length} zone(s) (${zones.join(', ')}); at least ${rules.minZones} required`,
      });
    }
  }
  return violations;
}
