import type { ResourceValidationPolicy, StackValidationPolicy } from '@pulumi/policy';
import { parseInventory, placementCheck, placementViolations, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { inventoryFromResources, isUnknown, known, tagsOf, TYPES, type ReconstructedHost, type StackResource } from './resources.js';
import { TAG } from '../naming.js';

/**
 * gameday's CrossGuard policies. Placement and blast radius are judged by topology/ (the same code
 * as `gameday placement check`) on the inventory rebuilt from the stack's resources.
 */

type Report = (message: string, urn?: string) => void;

/** Rebuilds and validates the inventory; an invalid one is itself a violation. */
function stackInventory(resources: readonly StackResource[], report: Report): { inv: Inventory; hosts: ReconstructedHost[] } | undefined {
  const { inventory, hosts } = inventoryFromResources(resources);
  if (hosts.length === 0) return undefined;
  try {
    return { inv: parseInventory(inventory, 'the stack\'s resources'), hosts };
  } catch (err) {
    if (err instanceof GamedayError) {
      report(err.message);
      return undefined;
    }
    throw err;
  }
}

/** The resources behind the hosts a message names ("web: 2 hosts share rack ... (web-1, web-4)"). */
function urnsOf(tier: string, hosts: ReconstructedHost[]): string[] {
  return [...new Set(hosts.filter((h) => h.tier === tier).map((h) => h.urn))];
}

export const tierMembersOnDistinctRacks: StackValidationPolicy = {
  name: 'gameday-tier-members-on-distinct-racks',
  description:
    'No two instances of a tier share a rack: every EC2 member of a tier is in a rack-level spread placement group, and no group holds more than 7 of the tier in one zone.',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const resources = args.resources as unknown as StackResource[];
    // Groups declared in the stack, by name, with their strategy.
    const groups = new Map<string, { strategy?: string; spreadLevel?: string }>();
    for (const r of resources.filter((x) => x.type === TYPES.placementGroup)) {
      const name = known(() => r.props.name) ?? r.name;
      groups.set(String(name), { strategy: known(() => r.props.strategy), spreadLevel: known(() => r.props.spreadLevel) });
    }
    for (const r of resources.filter((x) => x.type === TYPES.instance || x.type === TYPES.autoScalingGroup)) {
      const tier = tagsOf(r)[TAG.tier];
      if (!tier) continue;
      if (isUnknown(() => r.props.placementGroup)) continue; // judged once known
      const group = r.props.placementGroup as unknown;
      if (typeof group !== 'string' || group === '') {
        reportViolation(`${tier}: ${r.name} is in no placement group, so AWS may put it on the same rack as another ${tier} member; put it in a rack-level spread group`, r.urn);
        continue;
      }
      const spec = groups.get(group);
      if (spec && (spec.strategy !== 'spread' || spec.spreadLevel !== 'rack')) {
        reportViolation(
          `${tier}: ${r.name} is in placement group ${group} with strategy ${spec.strategy ?? '?'}/${spec.spreadLevel ?? 'default'}; only a spread group at rack level keeps each member on its own rack`,
          r.urn,
        );
      }
    }
    const built = stackInventory(resources, reportViolation);
    if (!built) return;
    for (const v of placementViolations(built.inv).filter((x) => x.rule === 'maxPerRack')) {
      reportViolation(`${v.message} (a rack-level spread group holds at most 7 per zone)`, urnsOf(v.tier, built.hosts)[0]);
    }
  },
};

export const tierSpansMinZones: StackValidationPolicy = {
  name: 'gameday-tier-spans-min-zones',
  description: 'Every tier has members in at least minZones availability zones (tag gameday:min-zones, 2 by default).',
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const built = stackInventory(args.resources as unknown as StackResource[], reportViolation);
    if (!built) return;
    for (const v of placementViolations(built.inv).filter((x) => x.rule === 'minZones')) {
      reportViolation(v.message, urnsOf(v.tier, built.hosts)[0]);
    }
  },
};

export const elastiCacheFailoverMultiAz: ResourceValidationPolicy = {
  name: 'gameday-elasticache-failover-multi-az',
  description: 'ElastiCache replication groups have automatic failover, Multi-AZ, at least two nodes, and their nodes in distinct zones.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.replicationGroup) return;
    const p = args.props;
    if (p.automaticFailoverEnabled !== true) reportViolation('automaticFailoverEnabled must be true: without it a lost primary is not replaced');
    if (p.multiAzEnabled !== true) reportViolation('multiAzEnabled must be true: without it a zone outage can take the primary with no promotion');
    const nodes = Number(p.numCacheClusters ?? (p.replicasPerNodeGroup !== undefined ? Number(p.replicasPerNodeGroup) + 1 : 1));
    if (nodes < 2) reportViolation(`${nodes} node(s): automatic failover needs at least 2 (a primary and a replica)`);
    const azs = known(() => p.preferredCacheClusterAzs) as string[] | undefined;
    if (Array.isArray(azs)) {
      const dup = azs.find((z, i) => azs.indexOf(z) !== i);
      if (dup !== undefined) reportViolation(`preferredCacheClusterAzs lists ${dup} more than once: two nodes in one zone fall together`);
    } else if (azs === undefined && nodes >= 2) {
      reportViolation('preferredCacheClusterAzs is not set: ElastiCache may put nodes in the same zone; list one distinct zone per node');
    }
  },
};

export const fisTemplateHasStopCondition: ResourceValidationPolicy = {
  name: 'gameday-fis-template-has-stop-condition',
  description: 'Every FIS experiment template has at least one CloudWatch-alarm stop condition.',
  enforcementLevel: 'mandatory',
  validateResource: (args, reportViolation) => {
    if (args.type !== TYPES.experimentTemplate) return;
    const conditions = (args.props.stopConditions ?? []) as { source?: string }[];
    if (!conditions.some((c) => c.source === 'aws:cloudwatch:alarm')) {
      reportViolation('no stop condition: an experiment must stop by itself when an alarm fires (source aws:cloudwatch:alarm), not run its full length while users see errors');
    }
  },
};

export const blastRadiusHolds: StackValidationPolicy = {
  name: 'gameday-blast-radius',
  description: "The loss of any one rack or zone leaves every tier and pool enough healthy members (gameday placement check on the stack's inventory).",
  enforcementLevel: 'mandatory',
  validateStack: (args, reportViolation) => {
    const built = stackInventory(args.resources as unknown as StackResource[], reportViolation);
    if (!built) return;
    const check = placementCheck(built.inv);
    for (const b of check.breaks.filter((x) => !x.startsWith('host '))) {
      const tier = /: tier ([a-z0-9-]+):/.exec(b)?.[1];
      reportViolation(b, tier ? urnsOf(tier, built.hosts)[0] : undefined);
    }
  },
};

export const policies = [tierMembersOnDistinctRacks, tierSpansMinZones, elastiCacheFailoverMultiAz, fisTemplateHasStopCondition, blastRadiusHolds];
