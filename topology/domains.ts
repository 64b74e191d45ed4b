import type { Host, Inventory } from './schema.js';

export type DomainKind = 'host' | 'rack' | 'zone';

/** A failure domain: everything in it fails together. */
export interface Domain {
  kind: DomainKind;
  /** host name, zone name, or "zone/rack" (rack names need not be unique across zones). */
  name: string;
  hosts: string[];
}

export function rackId(host: Pick<Host, 'zone' | 'rack'>): string {
  return `${host.zone}/${host.rack}`;
}

function groupBy(hosts: Host[], key: (h: Host) => string): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const h of hosts) {
    const k = key(h);
    const group = groups.get(k);
    if (group) group.push(h.name);
    else groups.set(k, [h.name]);
  }
  return groups;
}

/** Every zone, rack and host of the inventory, largest domains first, each sorted by name. */
export function failureDomains(inv: Inventory): Domain[] {
  const zones = [...groupBy(inv.hosts, (h) => h.zone)].sort(([a], [b]) => a.localeCompare(b));
  const racks = [...groupBy(inv.hosts, rackId)].sort(([a], [b]) => a.localeCompare(b));
  return [
    ...zones.map(([name, hosts]) => ({ kind: 'zone' as const, name, hosts })),
    ...racks.map(([name, hosts]) => ({ kind: 'rack' as const, name, hosts })),
    ...inv.hosts.map((h) => ({ kind: 'host' as const, name: h.name, hosts: [h.name] })),
  ];
}

/** Finds a domain by name: a host, a zone, or a rack given as "zone/rack" or, when unambiguous, "rack". */
export function findDomain(inv: Inventory, target: string): Domain | undefined {
  const all = failureDomains(inv);
  const exact = all.find((d) => d.name === target);
  if (exact) return exact;
  const racks = all.filter((d) => d.kind === 'rack' && d.name.split('/')[1] === target);
  return racks.length === 1 ? racks[0] : undefined;
}
