import type { Inventory } from './schema.js';
import { checkKinds } from './kinds.js';
import { checkClusters } from './clusters.js';

/**
 * Checks what a schema cannot: names that must be unique, references that must
 * resolve, and roles that must make sense. Returns one message per problem,
 * each starting with the path of the offending field.
 */
export function checkReferences(inv: Inventory): string[] {
  const problems: string[] = [...checkKinds(inv), ...checkClusters(inv)];
  const tierNames = Object.keys(inv.tiers);
  const hostNames = new Map<string, number>();
  const addresses = new Map<string, number>();

  inv.hosts.forEach((host, i) => {
    const at = `hosts[${i}]`;
    const sameName = hostNames.get(host.name);
    if (sameName !== undefined) problems.push(`${at}.name: duplicate host name "${host.name}" (also hosts[${sameName}])`);
    else hostNames.set(host.name, i);

    // DNS names are case-insensitive and may end with a dot: DB-1.example.com. is db-1.example.com.
    const key = host.address.toLowerCase().replace(/\.$/, '');
    const sameAddress = addresses.get(key);
    if (sameAddress !== undefined) {
      const other = inv.hosts[sameAddress].address;
      problems.push(`${at}.address: duplicate address ${host.address} (also hosts[${sameAddress}].address${other === host.address ? '' : `, written ${other}`})`);
    } else addresses.set(key, i);

    if (!inv.tiers[host.tier]) {
      problems.push(`${at}.tier: unknown tier "${host.tier}"; valid tiers: ${tierNames.join(', ') || '(none declared under tiers)'}`);
    }
  });

  const zoneCount = new Set(inv.hosts.map((h) => h.zone)).size;
  for (const [tier, spec] of Object.entries(inv.tiers)) {
    const members = inv.hosts.filter((h) => h.tier === tier);
    if (members.length === 0) problems.push(`tiers.${tier}: no host has tier "${tier}"; remove it or add hosts`);
    const primaries = members.filter((h) => h.role === 'primary');
    if (primaries.length > 1) {
      problems.push(`tiers.${tier}: ${primaries.length} hosts have role primary (${primaries.map((h) => h.name).join(', ')}); at most one may`);
    }
    if (spec.minHealthy !== undefined && spec.minHealthy > members.length && members.length > 0) {
      problems.push(`tiers.${tier}.minHealthy: ${spec.minHealthy} is more than the tier's ${members.length} hosts`);
    }
    // An explicit minZones above both the inventory's zones and the tier's hosts is a typo (99), not a placement to fix.
    const minZones = spec.placement?.minZones ?? inv.placement.minZones;
    if (minZones !== undefined && members.length > 0 && minZones > Math.max(zoneCount, members.length)) {
      const where = spec.placement?.minZones !== undefined ? `tiers.${tier}.placement.minZones` : 'placement.minZones';
      problems.push(`${where}: ${minZones}, but the inventory has ${zoneCount} zone${zoneCount === 1 ? '' : 's'} and tier ${tier} ${members.length} host${members.length === 1 ? '' : 's'}`);
    }
    if (spec.quorum !== undefined && spec.quorum > members.length && members.length > 0) {
      problems.push(`tiers.${tier}.quorum: ${spec.quorum} is more than the tier's ${members.length} hosts`);
    }
  }

  const poolNames = new Set<string>();
  inv.pools.forEach((pool, i) => {
    const at = `pools[${i}]`;
    if (poolNames.has(pool.name)) problems.push(`${at}.name: duplicate pool name "${pool.name}"`);
    poolNames.add(pool.name);
    for (const field of ['proxies', 'servers'] as const) {
      pool[field].forEach((ref, j) => {
        if (!hostNames.has(ref)) problems.push(`${at}.${field}[${j}]: unknown host "${ref}"; it must be the name of a host under hosts`);
      });
    }
  });
  return problems;
}
