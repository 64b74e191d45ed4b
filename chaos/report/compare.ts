import type { RequestKind } from '../load/targets.js';
import { REQUEST_KINDS, formatMs, formatSeconds, mainFigure, targetLabel } from './format.js';
import type { GameDayReport } from './types.js';

/** One run's side of a comparison; null where the run has no such thing. */
interface Sides<T> {
  a: T;
  b: T;
}

export interface CheckComparison {
  id: string;
  title: string;
  a: { passed: boolean; figure: string; measured: Record<string, number | string | null> } | null;
  b: { passed: boolean; figure: string; measured: Record<string, number | string | null> } | null;
}

export interface ReportComparison {
  runs: Sides<{ runId: string; scenario: string; target: string; verdict: GameDayReport['verdict']; verdictReason: string; startedAt: string }>;
  checks: CheckComparison[];
  load: {
    requests: Sides<number>;
    failed: Sides<number>;
    errorWindowMs: Sides<number>;
    byKind: Record<RequestKind, Sides<{ requests: number; failed: number; p50Ms: number; p99Ms: number } | null>>;
  };
}

function runSide(r: GameDayReport): ReportComparison['runs']['a'] {
  return { runId: r.runId, scenario: r.scenario.name, target: targetLabel(r), verdict: r.verdict, verdictReason: r.verdictReason, startedAt: r.startedAt };
}

function checkSide(r: GameDayReport, id: string): CheckComparison['a'] {
  const c = r.checks.find((x) => x.id === id);
  return c ? { passed: c.passed, figure: mainFigure(c), measured: c.measured } : null;
}

/** The two runs as a plain object, for `chaos compare --json`. Checks keep a's order, then b's extra ones. */
export function compareJson(a: GameDayReport, b: GameDayReport): ReportComparison {
  const ids = [...new Set([...a.checks.map((c) => c.id), ...b.checks.map((c) => c.id)])];
  const byKind = Object.fromEntries(REQUEST_KINDS.map((k) => [k, { a: a.load.byKind[k] ?? null, b: b.load.byKind[k] ?? null }])) as ReportComparison['load']['byKind'];
  return {
    runs: { a: runSide(a), b: runSide(b) },
    checks: ids.map((id) => ({
      id,
      title: (a.checks.find((c) => c.id === id) ?? b.checks.find((c) => c.id === id))!.title,
      a: checkSide(a, id),
      b: checkSide(b, id),
    })),
    load: {
      requests: { a: a.load.requests, b: b.load.requests },
      failed: { a: a.load.failed, b: b.load.failed },
      errorWindowMs: { a: a.load.errorWindowMs, b: b.load.errorWindowMs },
      byKind,
    },
  };
}

/** A row of three aligned cells, a rule, or free text that does not widen the columns (a heading, a long reason). */
type Row = [string, string, string] | 'rule' | { text: string };

const checkCell = (c: CheckComparison['a']) => (c ? `${c.passed ? 'pass' : 'FAIL'}  ${c.figure}` : '-');
const kindCell = (k: { requests: number; failed: number } | null) => (k ? `${k.failed} of ${k.requests}` : '-');

/** The two runs side by side, in aligned columns for a terminal. */
export function renderCompare(a: GameDayReport, b: GameDayReport): string {
  const c = compareJson(a, b);
  const rows: Row[] = [
    ['', 'A', 'B'],
    'rule',
    ['run', c.runs.a.runId, c.runs.b.runId],
    ['scenario', c.runs.a.scenario, c.runs.b.scenario],
    ['target', c.runs.a.target, c.runs.b.target],
    ['started', c.runs.a.startedAt, c.runs.b.startedAt],
    ['verdict', c.runs.a.verdict.toUpperCase(), c.runs.b.verdict.toUpperCase()],
    { text: `  A: ${c.runs.a.verdictReason}` },
    { text: `  B: ${c.runs.b.verdictReason}` },
    { text: 'checks' },
    ...c.checks.map((x): Row => [`  ${x.id}`, checkCell(x.a), checkCell(x.b)]),
    { text: 'failed requests' },
    ...REQUEST_KINDS.map((k): Row => [`  ${k}`, kindCell(c.load.byKind[k].a), kindCell(c.load.byKind[k].b)]),
    ['  all', `${c.load.failed.a} of ${c.load.requests.a}`, `${c.load.failed.b} of ${c.load.requests.b}`],
    ['error window', a.load.failed ? formatSeconds(c.load.errorWindowMs.a) : 'none', b.load.failed ? formatSeconds(c.load.errorWindowMs.b) : 'none'],
    { text: 'p99 latency' },
    ...REQUEST_KINDS.map((k): Row => {
      const [ka, kb] = [c.load.byKind[k].a, c.load.byKind[k].b];
      return [`  ${k}`, ka ? formatMs(ka.p99Ms) : '-', kb ? formatMs(kb.p99Ms) : '-'];
    }),
  ];
  const cells = rows.filter((r): r is [string, string, string] => Array.isArray(r));
  const width = (i: number) => Math.max(...cells.map((r) => r[i].length));
  const [w0, w1] = [width(0), width(1)];
  const lines = rows.map((r) => {
    if (r === 'rule') return '-'.repeat(w0 + w1 + width(2) + 6);
    if (!Array.isArray(r)) return r.text;
    return `${r[0].padEnd(w0)}   ${r[1].padEnd(w1)}   ${r[2]}`.trimEnd();
  });
  return `${lines.join('\n')}\n`;
}
