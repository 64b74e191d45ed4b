import {
  REQUEST_KINDS,
  escapeHtml as esc,
  formatMeasured,
  formatMs,
  formatSeconds,
  formatSince,
  measuredLabel,
  percent,
  runDurationS,
  sinceLoadStart,
  targetLabel,
  statusOf,
} from './format.js';
import { renderTimelineSvg } from './timelineSvg.js';
import type { GameDayReport } from './types.js';

/*
 * One self-contained file: inline CSS, inline SVG, no script, no font or
 * stylesheet from the network, so it opens the same from a laptop, a CI
 * artifact or a printout.
 */
const CSS = `
*{box-sizing:border-box}
body{margin:0;background:#f4f5f7;color:#1f2328;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",Arial,sans-serif}
main{max-width:1160px;margin:0 auto;padding:24px 20px 40px}
header .eyebrow{text-transform:uppercase;letter-spacing:.08em;font-size:11px;color:#6a737d;margin:0}
h1{font-size:26px;margin:2px 0 4px;word-break:break-word}
h2{font-size:17px;margin:0 0 12px}
h3{font-size:14px;margin:14px 0 6px}
p{margin:4px 0}
.description{color:#444;margin-bottom:10px}
.meta{display:grid;grid-template-columns:repeat(3,minmax(0,1fr));gap:4px 24px;font-size:13px;color:#444;margin:0}
.meta div{min-width:0;overflow-wrap:anywhere}.meta dt{display:inline;color:#6a737d}.meta dd{display:inline;margin:0 0 0 4px}
code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12px}
.verdict{margin:18px 0;padding:14px 18px;border-radius:8px;border-left:6px solid;display:flex;gap:18px;align-items:center}
.verdict .word{font-size:22px;font-weight:700;letter-spacing:.04em}
.verdict .reason{font-size:15px}.verdict .sums{font-size:13px;opacity:.85;margin-top:2px}
.verdict-passed{background:#e6f4ea;border-color:#1e8e3e;color:#0d652d}
.verdict-failed{background:#fce8e6;border-color:#d93025;color:#a50e0e}
.verdict-aborted,.verdict-refused{background:#eceef0;border-color:#80868b;color:#3c4043}
section{background:#fff;border:1px solid #e1e4e8;border-radius:8px;padding:16px 18px;margin:16px 0;break-inside:avoid}
table{border-collapse:collapse;width:100%;font-size:13px}
th{text-align:left;font-weight:600;color:#57606a;border-bottom:2px solid #d0d7de;padding:6px 8px;white-space:nowrap}
td{border-bottom:1px solid #eaeef2;padding:6px 8px;vertical-align:top}
tr.failed td{background:#fff5f5}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:700;white-space:nowrap}
.pill.pass{background:#dff3e4;color:#0d652d}.pill.fail{background:#d93025;color:#fff}
.pill.short{background:#fde2e1;color:#a50e0e}
.pill.unsure{background:#fef7e0;color:#8a5300}
.kind{font-size:12px;font-weight:600;white-space:nowrap}
.kind-fault{color:#b00020}.kind-undo{color:#1b8a5a}.kind-failover{color:#d9730d}.kind-response{color:#6b4fbb}.kind-check{color:#333}.kind-note{color:#8a8a8a}
.measured{margin:0;padding:0;list-style:none;white-space:nowrap}.measured li{font-variant-numeric:tabular-nums}.measured span{color:#6a737d}
.stats{display:flex;gap:12px;flex-wrap:wrap;margin-bottom:14px}
.stat{flex:1 1 150px;border:1px solid #e1e4e8;border-radius:6px;padding:8px 12px}
.stat .v{font-size:20px;font-weight:700;font-variant-numeric:tabular-nums}.stat .l{font-size:12px;color:#6a737d}
.stat.bad .v{color:#c8102e}
table.compact{width:auto;min-width:560px}
.fault{border-top:1px solid #eaeef2;padding-top:6px;margin-top:10px}
.muted{color:#6a737d}
footer{color:#6a737d;font-size:12px;text-align:center}
@media print{body{background:#fff}main{padding:0}section{border-color:#ccc}}
`;

const VERDICT_WORD: Record<GameDayReport['verdict'], string> = { passed: 'PASSED', failed: 'FAILED', aborted: 'ABORTED', refused: 'REFUSED' };

const pill = (ok: boolean, yes = 'pass', no = 'FAIL') => `<span class="pill ${ok ? 'pass' : 'fail'}">${ok ? yes : no}</span>`;
/** A check's result: pass, FAIL, or inconclusive (it saw too little to say). */
const statusPill = (c: GameDayReport['checks'][number]) => (statusOf(c) === 'inconclusive' ? '<span class="pill unsure">inconclusive</span>' : pill(statusOf(c) === 'held'));

function header(r: GameDayReport): string {
  const meta: Array<[string, string]> = [
    ['run', `<code>${esc(r.runId)}</code>`],
    ['target', esc(targetLabel(r))],
    ['scenario file', `<code>${esc(r.scenario.file)}</code>`],
    ['started', esc(r.startedAt)],
    ['ended', esc(r.endedAt)],
    ['took', `${Math.round(runDurationS(r))} s`],
  ];
  return `<header><p class="eyebrow">gameday report</p><h1>${esc(r.scenario.name)}</h1>
<p class="description">${esc(r.scenario.description)}</p>
<dl class="meta">${meta.map(([k, v]) => `<div><dt>${k}</dt><dd>${v}</dd></div>`).join('')}</dl></header>`;
}

function verdictBanner(r: GameDayReport): string {
  const held = r.checks.filter((c) => statusOf(c) === 'held').length;
  const unsure = r.checks.filter((c) => statusOf(c) === 'inconclusive').length;
  const sums = [`${held} of ${r.checks.length} checks held${unsure ? `, ${unsure} inconclusive` : ''}`, r.load.requests ? `${r.load.failed} of ${r.load.requests} requests failed` : 'no load ran'];
  if (r.load.failed > 0) sums.push(`error window ${formatSeconds(r.load.errorWindowMs)}`);
  return `<div class="verdict verdict-${r.verdict}" role="status"><div class="word">${VERDICT_WORD[r.verdict]}</div>
<div><div class="reason">${esc(r.verdictReason)}</div><div class="sums">${sums.join(' · ')}</div></div></div>`;
}

/** The checks asked for that do not apply to this run, and why: none is left out without a word. */
function notApplicableList(r: GameDayReport): string {
  const na = r.checksNotApplicable ?? [];
  if (na.length === 0) return '';
  return `<p class="muted">Not applicable to this run: ${na.map((n) => `<code>${esc(n.id)}</code> (${esc(n.why)})`).join('; ')}.</p>`;
}

function timelineSection(r: GameDayReport): string {
  return `<section><h2>Timeline</h2>${renderTimelineSvg(r)}</section>`;
}

function checksSection(r: GameDayReport): string {
  if (r.checks.length === 0) return `<section><h2>Checks</h2><p class="muted">No check reached a verdict.</p></section>`;
  const rows = r.checks.map((c) => {
    const figures = Object.entries(c.measured)
      .map(([k, v]) => `<li><span>${esc(measuredLabel(k))}</span> ${esc(formatMeasured(k, v))}</li>`)
      .join('');
    return `<tr class="${c.passed ? 'passed' : 'failed'}"><td>${statusPill(c)}</td>
<td><strong>${esc(c.title)}</strong><br><code class="muted">${esc(c.id)}</code></td>
<td>${esc(c.detail)}</td><td><ul class="measured">${figures || '<li>-</li>'}</ul></td><td class="num">${esc(sinceLoadStart(r, c.at))}</td></tr>`;
  });
  return `<section><h2>Checks</h2><table><thead><tr><th>result</th><th>check</th><th>detail</th><th>measured</th><th class="num">at</th></tr></thead>
<tbody>${rows.join('')}</tbody></table>${notApplicableList(r)}</section>`;
}

/** A network cut's sides: what each sees, and whether it must serve or stop taking writes. */
function sidesTable(sides: GameDayReport['preflight']['faults'][number]['sides']): string {
  if (!sides?.length) return '';
  const rows = sides.map((x) => `<tr><td>${esc(x.side)}</td><td class="num">${x.hosts.length}</td><td>${x.serves ? '<span class="pill pass">serves</span>' : '<span class="pill short">must stop writes</span>'} ${esc(x.detail)}</td></tr>`).join('');
  return `<table class="compact"><thead><tr><th>side</th><th class="num">hosts</th><th></th></tr></thead><tbody>${rows}</tbody></table>`;
}

function preflightSection(r: GameDayReport): string {
  const p = r.preflight;
  const faults = p.faults.map((f) => {
    const rows = f.blastRadius
      .map((b) => `<tr><td>${esc(b.what)}</td><td class="num">${b.left}</td><td class="num">${b.needed}</td><td>${b.ok ? '<span class="pill pass">ok</span>' : '<span class="pill short">short</span>'}</td></tr>`)
      .join('');
    return `<div class="fault"><h3>${esc(f.fault)} <span class="muted">on</span> ${esc(f.target)}</h3>
<p class="muted">hosts: ${f.hosts.map(esc).join(', ') || '-'}</p>
<table class="compact"><thead><tr><th>tier / pool</th><th class="num">left</th><th class="num">needed</th><th></th></tr></thead><tbody>${rows}</tbody></table>${sidesTable(f.sides)}</div>`;
  });
  const radius = p.safe ? 'every fault leaves every tier and pool enough members' : 'a fault leaves a tier or pool short';
  return `<section><h2>Pre-flight</h2>
<p>${pill(p.steadyState.ok, 'holds', 'broken')} steady state: ${esc(p.steadyState.detail)}</p>
<p>${pill(p.safe, 'safe', 'unsafe')} blast radius: ${radius}${p.expectBreaks ? ' (the scenario expects it to break)' : ''}</p>
${faults.join('') || '<p class="muted">No fault was planned.</p>'}</section>`;
}

function loadSection(r: GameDayReport): string {
  const l = r.load;
  if (l.requests === 0) return `<section><h2>Load</h2><p class="muted">No load recorded.</p></section>`;
  const window = l.failed === 0 ? 'none' : formatSeconds(l.errorWindowMs);
  const windowSpan = l.firstFailureAt ? `${sinceLoadStart(r, l.firstFailureAt)} to ${sinceLoadStart(r, l.lastFailureAt ?? l.firstFailureAt)}` : 'error window';
  const stats = [
    { v: String(l.requests), l: `requests at ${l.ratePerS}/s for ${l.durationS} s`, bad: false },
    { v: String(l.failed), l: `failed (${percent(l.failed, l.requests)})`, bad: l.failed > 0 },
    { v: window, l: l.failed === 0 ? 'error window' : `error window, ${windowSpan}`, bad: l.failed > 0 },
    { v: `${l.acked.created} / ${l.acked.markedRead}`, l: 'acknowledged creates / mark-reads', bad: false },
  ];
  const rows = REQUEST_KINDS.map((k) => {
    const s = l.byKind[k];
    return `<tr><td>${k}</td><td class="num">${s.requests}</td><td class="num">${s.failed} (${percent(s.failed, s.requests)})</td><td class="num">${formatMs(s.p50Ms)}</td><td class="num">${formatMs(s.p99Ms)}</td></tr>`;
  });
  return `<section><h2>Load</h2><div class="stats">${stats.map((s) => `<div class="stat${s.bad ? ' bad' : ''}"><div class="v">${esc(s.v)}</div><div class="l">${esc(s.l)}</div></div>`).join('')}</div>
<table class="compact"><thead><tr><th>kind</th><th class="num">requests</th><th class="num">failed</th><th class="num">p50</th><th class="num">p99</th></tr></thead><tbody>${rows.join('')}</tbody></table>${notApplicableList(r)}</section>`;
}

function eventsSection(r: GameDayReport): string {
  if (r.events.length === 0) return `<section><h2>Events</h2><p class="muted">No events.</p></section>`;
  const rows = [...r.events]
    .sort((a, b) => a.second - b.second)
    .map((e) => {
      const verdict = e.kind === 'check' && e.passed !== undefined ? ` ${pill(e.passed, 'held')}` : '';
      return `<tr><td class="num">${formatSince(e.second)}</td><td><span class="kind kind-${e.kind}">${e.kind}</span></td><td>${esc(e.label)}${verdict}</td><td class="muted">${esc(e.detail ?? '')}</td></tr>`;
    });
  return `<section><h2>Events</h2><table><thead><tr><th class="num">time</th><th>kind</th><th>event</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>
<p class="muted">Times are seconds since the load began.</p></section>`;
}

function probesSection(r: GameDayReport): string {
  if (r.probes.length === 0) return '';
  const rows = r.probes.map(
    (p) => `<tr><td>${esc(p.name)}</td><td class="num">${formatMs(p.intervalMs)}</td><td class="num">${p.samples}</td><td class="num">${formatMs(p.meanMs)}</td><td class="num">${p.failedSamples}</td></tr>`,
  );
  return `<section><h2>Probe costs</h2><table class="compact"><thead><tr><th>probe</th><th class="num">every</th><th class="num">samples</th><th class="num">mean</th><th class="num">failed samples</th></tr></thead><tbody>${rows.join('')}</tbody></table>${notApplicableList(r)}</section>`;
}

export function renderReportHtml(r: GameDayReport): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(`${r.scenario.name}: ${VERDICT_WORD[r.verdict]} (gameday)`)}</title>
<style>${CSS}</style></head>
<body><main>
${header(r)}
${verdictBanner(r)}
${timelineSection(r)}
${checksSection(r)}
${preflightSection(r)}
${loadSection(r)}
${eventsSection(r)}
${probesSection(r)}
<footer>gameday · run ${esc(r.runId)}</footer>
</main></body></html>
`;
}
