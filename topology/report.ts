import { blastRadiusOfAll, type BlastRadiusOptions, type DomainImpact } from './blastRadius.js';
import { placementViolations, type PlacementViolation } from './placement.js';
import type { Inventory } from './schema.js';

/** The verdict of `placement check`: blast radius of every domain plus placement rules. */
export interface PlacementCheck {
  inventory: string;
  /** true when no single rack or zone loss breaks anything and no placement rule is broken. */
  ok: boolean;
  columns: string[];
  impacts: DomainImpact[];
  violations: PlacementViolation[];
  /** One line per break: "rack az-a/a1: tier db-proxy: 0 of 2 left, minHealthy is 1". */
  breaks: string[];
  /** Remarks on the analysis itself (e.g. a single-zone inventory). */
  notes: string[];
}

export function placementCheck(inv: Inventory, opts: BlastRadiusOptions = {}): PlacementCheck {
  const zones = new Set(inv.hosts.map((h) => h.zone));
  const notes: string[] = [];
  // With one zone, losing it is losing everything: no placement can survive it, so it is not judged.
  let impacts = blastRadiusOfAll(inv, opts);
  if (zones.size === 1) {
    impacts = impacts.filter((i) => i.domain.kind !== 'zone');
    notes.push(`single zone (${[...zones][0]}): the loss of the whole zone is not analysed`);
  }
  const violations = placementViolations(inv);
  const breaks: string[] = [];
  for (const impact of impacts) {
    const where = `${impact.domain.kind} ${impact.domain.name}`;
    for (const t of impact.tiers) for (const b of t.breaks) breaks.push(`${where}: tier ${t.tier}: ${b}`);
    for (const p of impact.pools) for (const b of p.breaks) breaks.push(`${where}: pool ${p.pool}: ${b}`);
  }
  // Losing a single host is expected to hurt single-member tiers; only racks and zones decide the verdict.
  const domainBreaks = impacts.some((i) => i.domain.kind !== 'host' && !i.holds);
  return {
    inventory: inv.name,
    ok: !domainBreaks && violations.length === 0,
    columns: [...Object.keys(inv.tiers), ...inv.pools.map((p) => `pool:${p.name}`)],
    impacts,
    violations,
    breaks,
    notes,
  };
}

/** The text of one table cell: what is left of a tier or pool after losing the domain. */
export function cellText(impact: DomainImpact, column: string): string {
  if (column.startsWith('pool:')) {
    const p = impact.pools.find((x) => `pool:${x.pool}` === column)!;
    const text = `${p.serversLeftCount} srv/${p.proxiesLeftCount} lb`;
    return p.holds ? text : `BREAKS ${text}`;
  }
  const t = impact.tiers.find((x) => x.tier === column)!;
  const text = `${t.leftCount}/${t.total}`;
  if (!t.holds) return `BREAKS ${text}`;
  return t.notes.length > 0 ? `${text} failover` : text;
}
