import { blastRadius, poolTouched, type Inventory } from '../topology/index.js';
import type { ResolvedFault } from '../drivers/faults/types.js';
import type { Preflight } from './report/types.js';

/** The hosts a fault takes out of service, as the blast radius counts them. */
function hostsTakenAway(f: ResolvedFault): string[] {
  if (f.type === 'redis-data-loss') return []; // nothing goes dark: the data goes
  if (f.type === 'partition') return f.sides![1]; // seen from the first side, the second is gone
  return f.hosts;
}

function overlaps(a: ResolvedFault, b: ResolvedFault, loadMs: number): boolean {
  const end = (f: ResolvedFault) => f.atMs + (f.forMs ?? loadMs - f.atMs);
  return a.atMs < end(b) && b.atMs < end(a);
}

/**
 * The blast radius of every fault, together with the faults active at the
 * same time: what each tier and pool has left against what it needs.
 */
export function preflight(inv: Inventory, faults: ResolvedFault[], loadMs: number, expectBreaks: boolean): Omit<Preflight, 'steadyState'> {
  const entries = faults.map((f) => {
    const together = faults.filter((o) => o === f || (o.atMs <= f.atMs && overlaps(o, f, loadMs)));
    const hosts = [...new Set(together.flatMap(hostsTakenAway))];
    const impact = blastRadius(inv, { kind: 'host', name: f.label, hosts });
    const tiers = impact.tiers
      .filter((t) => t.lost.length > 0)
      .map((t) => {
        const spec = inv.tiers[t.tier] ?? {};
        const needed = spec.quorum ?? spec.minHealthy ?? 1;
        return { what: `tier ${t.tier}${t.breaks.length ? `: ${t.breaks.join('; ')}` : t.notes.length ? ` (${t.notes.join('; ')})` : ''}`, left: t.leftCount, needed, ok: t.holds };
      });
    const pools = impact.pools
      .filter((p) => poolTouched(inv, p))
      .map((p) => ({ what: `pool ${p.pool}${p.breaks.length ? `: ${p.breaks.join('; ')}` : ''}`, left: Math.min(p.serversLeftCount, p.proxiesLeftCount), needed: 1, ok: p.holds }));
    const label = together.length > 1 ? `${f.label} (with ${together.filter((o) => o !== f).map((o) => o.id).join(', ')})` : f.label;
    return { fault: `${f.id}: ${f.type}`, target: label, hosts, blastRadius: [...tiers, ...pools] };
  });
  const safe = entries.every((e) => e.blastRadius.every((b) => b.ok));
  return { faults: entries, safe, expectBreaks };
}
