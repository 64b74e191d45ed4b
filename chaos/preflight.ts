import { blastRadius, poolTouched, tierKind, type Inventory } from '../topology/index.js';
import type { ResolvedFault } from '../drivers/faults/types.js';
import type { Preflight } from './report/types.js';

type Entry = Preflight['faults'][number];
type Radius = Entry['blastRadius'];

/** The faults that cut links between hosts: a host on one side cannot talk with one on the other (a one-way cut breaks TCP both ways). */
const isCut = (f: ResolvedFault) => f.type === 'partition' || f.type === 'one-way';

/** The hosts a fault takes out of service, as the blast radius counts them (network cuts are judged by their sides instead). */
function hostsTakenAway(f: ResolvedFault): string[] {
  if (f.type === 'redis-data-loss' || f.type === 'loss' || f.type === 'bandwidth' || f.type === 'latency') return []; // nothing goes dark: data goes, or the link degrades
  if (isCut(f)) return [];
  return f.hosts;
}

function overlaps(a: ResolvedFault, b: ResolvedFault, loadMs: number): boolean {
  const end = (f: ResolvedFault) => f.atMs + (f.forMs ?? loadMs - f.atMs);
  return a.atMs < end(b) && b.atMs < end(a);
}

/**
 * "primary db-1 lost: promote db-2 or db-3" is a promise only when something
 * will promote: Sentinel does for Redis, but for MariaDB only a failover-db
 * response of the scenario does (`promotes` false: none follows these faults).
 */
function plainNotes(inv: Inventory, tier: string, notes: string[], promotes: boolean): string[] {
  if (promotes || tierKind(inv, tier) !== 'mariadb') return notes;
  return notes.map((n) => n.replace(/^primary (\S+) lost: promote (.+)$/, 'primary $1 lost and nothing promotes $2 (no failover-db response): writes fail until someone runs it'));
}

function radiusOf(inv: Inventory, label: string, gone: string[], promotes = true): Radius {
  const impact = blastRadius(inv, { kind: 'host', name: label, hosts: gone });
  const tiers = impact.tiers
    .filter((t) => t.lost.length > 0)
    .map((t) => {
      const spec = inv.tiers[t.tier] ?? {};
      const needed = spec.quorum ?? spec.minHealthy ?? 1;
      const notes = plainNotes(inv, t.tier, t.notes, promotes);
      return { what: `tier ${t.tier}${t.breaks.length ? `: ${t.breaks.join('; ')}` : notes.length ? ` (${notes.join('; ')})` : ''}`, left: t.leftCount, needed, ok: t.holds };
    });
  const pools = impact.pools
    .filter((p) => poolTouched(inv, p))
    .map((p) => {
      // "left" is the scarcer of the two, so the text says which counts: servers or proxies.
      const pool = inv.pools.find((x) => x.name === p.pool)!;
      const counts = `${p.serversLeftCount} of ${pool.servers.length} servers and ${p.proxiesLeftCount} of ${pool.proxies.length} proxies left`;
      return { what: `pool ${p.pool}${p.breaks.length ? `: ${p.breaks.join('; ')}` : ` (${counts})`}`, left: Math.min(p.serversLeftCount, p.proxiesLeftCount), needed: 1, ok: p.holds };
    });
  return [...tiers, ...pools];
}

/** "az-b + az-c" when the hosts are whole zones, else their names. */
function describe(inv: Inventory, hosts: string[]): string {
  const zones = [...new Set(inv.hosts.map((h) => h.zone))];
  const whole = zones.filter((z) => inv.hosts.filter((h) => h.zone === z).every((h) => hosts.includes(h.name)));
  const covered = inv.hosts.filter((h) => whole.includes(h.zone)).length === hosts.length;
  return covered && whole.length > 0 ? whole.join(' + ') : hosts.join(', ');
}

/**
 * A network cut judged from every side: each host sees the live hosts no
 * active cut separates it from; hosts that see the same set form a side.
 * A side serves when every tier and pool it sees holds; the others must
 * stop taking writes (they hold a minority of some tier).
 */
type Side = NonNullable<Entry['sides']>[number] & { radius: Radius };

function sidesOf(inv: Inventory, cuts: ResolvedFault[], gone: string[], promotes: boolean): Side[] {
  const live = inv.hosts.map((h) => h.name).filter((n) => !gone.includes(n));
  const separated = (a: string, b: string) => cuts.some((c) => { const [x, y] = c.sides!; return (x.includes(a) && y.includes(b)) || (y.includes(a) && x.includes(b)); });
  const party = live.filter((h) => cuts.some((c) => c.sides!.some((s) => s.includes(h))));
  const views = new Map<string, string[]>();
  for (const h of party) {
    const sees = live.filter((o) => !separated(h, o));
    views.set(sees.join(','), sees);
  }
  return [...views.values()].map((sees) => {
    const radius = radiusOf(inv, describe(inv, sees), [...gone, ...live.filter((o) => !sees.includes(o))], promotes);
    const short = radius.filter((b) => !b.ok).map((b) => b.what);
    const detail = short.length === 0 ? 'keeps every tier and pool: it must serve' : `cannot serve (${short.join('; ')}): it must stop taking writes`;
    return { side: describe(inv, sees), hosts: sees, serves: short.length === 0, detail, radius };
  });
}

/**
 * The blast radius of every fault, together with the faults active at the
 * same time: what each tier and pool has left against what it needs, and
 * for a network cut, what each side has left.
 */
export function preflight(inv: Inventory, faults: ResolvedFault[], loadMs: number, expectBreaks: boolean, dbFailoverAfter?: ReadonlySet<string>): Omit<Preflight, 'steadyState'> {
  const entries = faults.map((f): Entry => {
    const together = faults.filter((o) => o === f || (o.atMs <= f.atMs && overlaps(o, f, loadMs)));
    const gone = [...new Set(together.flatMap(hostsTakenAway))];
    const label = together.length > 1 ? `${f.label} (with ${together.filter((o) => o !== f).map((o) => o.id).join(', ')})` : f.label;
    const cuts = together.filter(isCut);
    // Without the scenario's responses (placement-style use), the note says what could be promoted.
    const promotes = dbFailoverAfter === undefined || together.some((o) => dbFailoverAfter.has(o.id));
    if (cuts.length === 0) return { fault: `${f.id}: ${f.type}`, target: label, hosts: gone, blastRadius: radiusOf(inv, f.label, gone, promotes) };
    const sides = sidesOf(inv, cuts, gone, promotes);
    // What the report shows as the fault's radius: the side that serves (the largest one when none can).
    const shown = sides.find((s) => s.serves) ?? [...sides].sort((a, b) => b.hosts.length - a.hosts.length)[0];
    const unseen = inv.hosts.map((h) => h.name).filter((n) => !shown.hosts.includes(n));
    return {
      fault: `${f.id}: ${f.type}`,
      target: label,
      hosts: unseen,
      blastRadius: shown.radius,
      sides: sides.map(({ side, hosts, serves, detail }) => ({ side, hosts, serves, detail })),
    };
  });
  const safe = entries.every((e) => e.blastRadius.every((b) => b.ok));
  return { faults: entries, safe, expectBreaks };
}
