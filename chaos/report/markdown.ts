import {
  REQUEST_KINDS,
  formatMs,
  formatSeconds,
  formatSince,
  measuredList,
  percent,
  runDurationS,
  sinceLoadStart,
  targetLabel,
  statusOf,
} from './format.js';
import type { GameDayReport } from './types.js';

const VERDICT_WORD: Record<GameDayReport['verdict'], string> = {
  passed: '✅ PASSED',
  failed: '❌ FAILED',
  aborted: '⚪ ABORTED',
  refused: '⛔ REFUSED',
};

/**
 * Text inside GitHub Markdown: HTML is neutralised (a scenario name may hold
 * anything) and a table cell stays one cell.
 */
function md(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/** A code span: Markdown shows its text as is (no entities), so only backticks and pipes matter. */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ')}\``;
}

function table(head: string[], rows: string[][]): string[] {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)];
}

function checksSection(r: GameDayReport): string[] {
  if (r.checks.length === 0) return ['_No check reached a verdict._'];
  const rows = r.checks.map((c) => [
    `**${md(c.title)}**<br>${code(c.id)}`,
    statusOf(c) === 'held' ? '✅ pass' : statusOf(c) === 'failed' ? '❌ **FAIL**' : '❔ **inconclusive**',
    md(c.detail),
    measuredList(c).map(md).join('<br>') || '-',
    sinceLoadStart(r, c.at),
  ]);
  const na = (r.checksNotApplicable ?? []).map((n) => `${code(n.id)} (${md(n.why)})`);
  return [...table(['check', 'result', 'detail', 'measured', 'at'], rows), ...(na.length ? ['', `Not applicable to this run: ${na.join('; ')}.`] : [])];
}

function preflightSection(r: GameDayReport): string[] {
  const p = r.preflight;
  const lines = [
    `Steady state: ${p.steadyState.ok ? 'holds' : '**does not hold**'}: ${md(p.steadyState.detail)}`,
    '',
    `Blast radius: ${p.safe ? 'every tier and pool keeps enough members' : '**a fault leaves a tier or pool short**'}${p.expectBreaks ? ' (the scenario expects it to break)' : ''}.`,
  ];
  for (const f of p.faults) {
    lines.push('', `**${md(f.fault)}** on ${md(f.target)} (hosts: ${f.hosts.map(md).join(', ') || '-'})`, '');
    lines.push(...table(['tier / pool', 'left', 'needed', ''], f.blastRadius.map((b) => [md(b.what), String(b.left), String(b.needed), b.ok ? 'ok' : '**short**'])));
    if (f.sides?.length) lines.push('', ...table(['side', 'hosts', ''], f.sides.map((x) => [md(x.side), String(x.hosts.length), md(x.detail)])));
  }
  return lines;
}

function loadSection(r: GameDayReport): string[] {
  const l = r.load;
  if (l.requests === 0) return ['_No load recorded._'];
  const lines = [
    `${l.requests} requests at ${l.ratePerS}/s for ${l.durationS} s; **${l.failed} failed** (${percent(l.failed, l.requests)}).`,
    `Error window: ${l.failed === 0 ? 'none' : `${formatSeconds(l.errorWindowMs)}${l.firstFailureAt ? ` (from ${sinceLoadStart(r, l.firstFailureAt)} to ${sinceLoadStart(r, l.lastFailureAt ?? l.firstFailureAt)})` : ''}`}.`,
    `Acknowledged writes: ${l.acked.created} created, ${l.acked.markedRead} marked read.`,
    '',
  ];
  const rows = REQUEST_KINDS.map((k) => {
    const s = l.byKind[k];
    return [k, String(s.requests), `${s.failed} (${percent(s.failed, s.requests)})`, formatMs(s.p50Ms), formatMs(s.p99Ms)];
  });
  const failed = (l.failedRequests ?? []).slice(0, 20).map((f) => [sinceLoadStart(r, f.at), f.kind, formatMs(f.ms), f.servedBy ?? '-', f.error ?? '-']);
  const more = l.failed > failed.length ? [`_…and ${l.failed - failed.length} more in report.json (load.failedRequests)._`] : [];
  return [
    ...lines,
    ...table(['kind', 'requests', 'failed', 'p50', 'p99'], rows),
    ...(failed.length ? ['', 'Failed requests:', '', ...table(['at', 'kind', 'took', 'served by', 'error (each attempt)'], failed), ...more] : []),
  ];
}

function eventsSection(r: GameDayReport): string[] {
  if (r.events.length === 0) return ['_No events._'];
  const rows = [...r.events]
    .sort((a, b) => a.second - b.second)
    .map((e) => {
      const verdict = e.kind === 'check' && e.passed !== undefined ? (e.passed ? ' ✅' : ' ❌') : '';
      return [formatSince(e.second), e.kind, md(e.label) + verdict, md(e.detail ?? '')];
    });
  return table(['time', 'kind', 'event', 'detail'], rows);
}

function probesSection(r: GameDayReport): string[] {
  if (r.probes.length === 0) return ['_No probes ran._'];
  const rows = r.probes.map((p) => [md(p.name), formatMs(p.intervalMs), String(p.samples), formatMs(p.meanMs), String(p.failedSamples)]);
  return table(['probe', 'every', 'samples', 'mean', 'failed samples'], rows);
}

export function renderReportMarkdown(r: GameDayReport): string {
  const held = r.checks.filter((c) => c.passed).length;
  const lines = [
    `# Game day: ${md(r.scenario.name)}: ${VERDICT_WORD[r.verdict]}`,
    '',
    `> **${VERDICT_WORD[r.verdict]}**: ${md(r.verdictReason)}`,
    '',
    md(r.scenario.description),
    '',
    `- run: ${code(r.runId)}`,
    `- scenario file: ${code(r.scenario.file)}`,
    `- target: ${md(targetLabel(r))}`,
    `- from ${r.startedAt} to ${r.endedAt} (${Math.round(runDurationS(r))} s)`,
    `- checks: ${held} of ${r.checks.length} held`,
    '',
    '## Checks',
    '',
    ...checksSection(r),
    '',
    '## Pre-flight',
    '',
    ...preflightSection(r),
    '',
    '## Load',
    '',
    ...loadSection(r),
    '',
    '## Events',
    '',
    'Times are seconds since the load began.',
    '',
    ...eventsSection(r),
    '',
    '## Probe costs',
    '',
    ...probesSection(r),
    '',
  ];
  return lines.join('\n');
}
