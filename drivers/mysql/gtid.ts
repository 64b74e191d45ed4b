import { GamedayError } from '../../core/errors.js';

/**
 * MariaDB GTIDs, as pure code. A GTID is domain-server-seq ("0-1-100"). A
 * position (@@gtid_slave_pos, @@gtid_binlog_pos, @@gtid_current_pos,
 * Gtid_IO_Pos) keeps one GTID per replication domain: the last one. Within a
 * domain the seq grows by one per transaction whichever server wrote it
 * (gtid_strict_mode), so "has everything up to" is a per-domain seq
 * comparison; the server id says who wrote the last one.
 */
export interface Gtid {
  domain: number;
  server: number;
  seq: number;
}

/** One GTID per domain, sorted by domain. */
export type GtidPosition = readonly Gtid[];

const GTID_PATTERN = /^(\d+)-(\d+)-(\d+)$/;

function wholeNumber(text: string, field: string, gtid: string, what: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new GamedayError('BAD_GTID', `${field} of "${gtid}" is too large`, what, 'a GTID is domain-server-seq, e.g. 0-1-100');
  return n;
}

/**
 * Parses a MariaDB GTID position: comma-separated domain-server-seq, one per
 * domain ("0-1-100,1-2-5"); an empty text is the empty position. `what`
 * names the input in the error (a flag, a server variable).
 */
export function parseGtidPosition(text: string, what = 'GTID position'): GtidPosition {
  if (text.trim() === '') return [];
  // MariaDB may put a newline after each comma (Gtid_IO_Pos with several domains).
  const entries = text.split(',').map((e) => e.trim());
  const byDomain = new Map<number, Gtid>();
  for (const entry of entries) {
    const m = GTID_PATTERN.exec(entry);
    if (!m) throw new GamedayError('BAD_GTID', `"${entry}" is not a GTID`, what, 'a GTID is domain-server-seq, e.g. 0-1-100; a position lists one per domain: 0-1-100,1-2-5');
    const gtid = { domain: wholeNumber(m[1], 'the domain', entry, what), server: wholeNumber(m[2], 'the server id', entry, what), seq: wholeNumber(m[3], 'the sequence number', entry, what) };
    if (byDomain.has(gtid.domain)) {
      throw new GamedayError('BAD_GTID', `domain ${gtid.domain} appears twice in "${text}"`, what, 'a position has one GTID per domain (a gtid_binlog_state, which has one per server, is not a position)');
    }
    byDomain.set(gtid.domain, gtid);
  }
  return [...byDomain.values()].sort((a, b) => a.domain - b.domain);
}

export function formatGtid(g: Gtid): string {
  return `${g.domain}-${g.server}-${g.seq}`;
}

export function formatGtidPosition(pos: GtidPosition): string {
  return pos.map(formatGtid).join(',');
}

/** The last GTID of a domain in a position (undefined: nothing in that domain). */
export function gtidIn(pos: GtidPosition, domain: number): Gtid | undefined {
  return pos.find((g) => g.domain === domain);
}

/** The seq reached in a domain; 0 when the position has nothing there. */
export function seqIn(pos: GtidPosition, domain: number): number {
  return gtidIn(pos, domain)?.seq ?? 0;
}

/** True when `a` has every transaction `b` has: in each domain, a's seq is at least b's. */
export function covers(a: GtidPosition, b: GtidPosition): boolean {
  return b.every((g) => seqIn(a, g.domain) >= g.seq);
}

/**
 * equal; ahead (a has all of b and more); behind; or diverged: each has
 * transactions the other lacks (ahead in one domain, behind in another).
 */
export function compareGtidPositions(a: GtidPosition, b: GtidPosition): 'equal' | 'ahead' | 'behind' | 'diverged' {
  const aCoversB = covers(a, b);
  const bCoversA = covers(b, a);
  if (aCoversB && bCoversA) return 'equal';
  if (aCoversB) return 'ahead';
  if (bCoversA) return 'behind';
  return 'diverged';
}

export interface GtidCandidate {
  name: string;
  position: GtidPosition;
}

export interface MostAdvanced {
  chosen: string;
  /** Candidates with the very same position, passed over by the order given. */
  tiedWith: string[];
  /** Candidates that have less. */
  behind: string[];
}

/**
 * The candidate that has every transaction any other candidate has. The
 * candidates come in order of preference: among equal positions the first
 * wins. When no candidate covers all the others (each is ahead in some
 * domain), promoting any of them loses the others' extra transactions: that
 * is for a person to decide, so it throws.
 */
export function mostAdvanced(candidates: readonly GtidCandidate[]): MostAdvanced {
  if (candidates.length === 0) throw new GamedayError('NO_CANDIDATE', 'no replica to choose from', 'candidates', 'a failover needs at least one reachable replica');
  const best = candidates.find((c) => candidates.every((o) => covers(c.position, o.position)));
  if (!best) {
    const listed = candidates.map((c) => `${c.name} at ${formatGtidPosition(c.position) || '(empty)'}`).join(', ');
    throw new GamedayError(
      'GTID_DIVERGED',
      `no replica has every transaction of the others: ${listed}`,
      'candidates',
      'each is ahead in some domain; choose one with --candidate: what the others have beyond it is reported as errant and they are left stopped',
    );
  }
  const others = candidates.filter((c) => c !== best);
  return {
    chosen: best.name,
    tiedWith: others.filter((o) => compareGtidPositions(o.position, best.position) === 'equal').map((o) => o.name),
    behind: others.filter((o) => compareGtidPositions(o.position, best.position) !== 'equal').map((o) => o.name),
  };
}

/** Transactions of one domain that a server has and the reference lacks: seqs firstSeq..lastSeq. */
export interface ErrantRange {
  domain: number;
  /** The server id of the host's last transaction in the domain (who wrote the errant ones, in practice). */
  server: number;
  firstSeq: number;
  lastSeq: number;
}

/**
 * The transactions a host has that the new primary never got. `reference`
 * must be what the new primary had received when it was promoted (its
 * gtid_slave_pos then), not its position now: its own later writes raise its
 * seqs past the host's and would hide the host's extra transactions.
 * Errant in domain d: the seqs past the reference's seq in d (all of d when
 * the reference has nothing there).
 */
export function errantGtids(hostPosition: GtidPosition, reference: GtidPosition): ErrantRange[] {
  return hostPosition
    .filter((g) => g.seq > seqIn(reference, g.domain))
    .map((g) => ({ domain: g.domain, server: g.server, firstSeq: seqIn(reference, g.domain) + 1, lastSeq: g.seq }));
}

export function errantCount(ranges: readonly ErrantRange[]): number {
  return ranges.reduce((n, r) => n + (r.lastSeq - r.firstSeq + 1), 0);
}

/** "0-1-57..0-1-68 (12 transactions)"; one GTID when the range is one long. */
export function formatErrant(ranges: readonly ErrantRange[]): string {
  return ranges
    .map((r) => {
      const n = r.lastSeq - r.firstSeq + 1;
      const first = `${r.domain}-${r.server}-${r.firstSeq}`;
      return n === 1 ? `${first} (1 transaction)` : `${first}..${r.domain}-${r.server}-${r.lastSeq} (${n} transactions)`;
    })
    .join(', ');
}

/**
 * Where a host with no errant transactions (or whose errant ones were
 * discarded) resumes replicating from the new primary: in each domain the
 * host has, the lower of its GTID and the reference's. A domain the
 * reference lacks holds only errant transactions: it is left out.
 */
export function resumePoint(hostPosition: GtidPosition, reference: GtidPosition): GtidPosition {
  return hostPosition.flatMap((g) => {
    const ref = gtidIn(reference, g.domain);
    if (!ref) return [];
    return [ref.seq < g.seq ? ref : g];
  });
}
