import type { RequestKind } from '../load/targets.js';
import type { CheckResult, GameDayReport } from './types.js';

/** The kinds in the order every report shows them. */
export const REQUEST_KINDS: readonly RequestKind[] = ['read', 'create', 'mark-read'];

/** 0.35 s, 2.1 s, 118 s: enough digits to compare runs, no more. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  const abs = Math.abs(s);
  const digits = abs === 0 ? 0 : abs < 0.1 ? 3 : abs < 1 ? 2 : abs < 100 ? 1 : 0;
  return `${s.toFixed(digits)} s`;
}

export function formatMs(ms: number): string {
  return ms >= 1000 ? formatSeconds(ms) : `${Number(ms.toFixed(ms < 10 ? 1 : 0))} ms`;
}

/** A measured figure as people read it: keys ending in `Ms` are times, shown in seconds. */
export function formatMeasured(key: string, value: number | string | null): string {
  if (value === null) return '-';
  if (typeof value === 'number' && key.endsWith('Ms')) return formatSeconds(value);
  return String(value);
}

/** "detectedMs" → "detected", "errorRatePercent" → "error rate percent". */
export function measuredLabel(key: string): string {
  return key
    .replace(/Ms$/, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .toLowerCase();
}

export function measuredList(check: CheckResult): string[] {
  return Object.entries(check.measured).map(([k, v]) => `${measuredLabel(k)} ${formatMeasured(k, v)}`);
}

/**
 * The one figure that sums a check up, for side-by-side views: the first
 * time in `measured` that is not `limitMs`, with the limit beside it. So a
 * check lists the figure its limit applies to first.
 */
export function mainFigure(check: CheckResult): string {
  const entries = Object.entries(check.measured);
  const time = entries.find(([k, v]) => k.endsWith('Ms') && k !== 'limitMs' && v !== null);
  const [key, value] = time ?? entries.find(([k]) => k !== 'limitMs') ?? ['', null];
  if (!key) return '-';
  const limit = check.measured.limitMs;
  const figure = formatMeasured(key, value);
  const withLimit = time && typeof limit === 'number' ? ` (limit ${formatSeconds(limit)})` : '';
  return `${measuredLabel(key)} ${figure}${withLimit}`;
}

/**
 * When the load began, in ms since the epoch: events carry both their time and
 * their second, so one of them pins it; without events, the run's start.
 */
export function loadStartMs(r: GameDayReport): number {
  const e = r.events.find((x) => Number.isFinite(Date.parse(x.at)));
  return e ? Date.parse(e.at) - e.second * 1000 : Date.parse(r.startedAt);
}

/** "+15.2 s" / "-3.0 s" since the load began. */
export function formatSince(second: number): string {
  const sign = second < 0 ? '-' : '+';
  return `${sign}${Math.abs(second).toFixed(1)} s`;
}

export function sinceLoadStart(r: GameDayReport, iso: string): string {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? formatSince((t - loadStartMs(r)) / 1000) : '-';
}

export function runDurationS(r: GameDayReport): number {
  const d = (Date.parse(r.endedAt) - Date.parse(r.startedAt)) / 1000;
  return Number.isFinite(d) ? Math.max(0, d) : 0;
}

export function targetLabel(r: GameDayReport): string {
  return r.target.layout ? `${r.target.inventory} (${r.target.layout})` : r.target.inventory;
}

export function percent(part: number, whole: number): string {
  if (whole === 0) return '0 %';
  const p = (100 * part) / whole;
  return `${p === 0 ? 0 : p < 0.1 ? '<0.1' : p.toFixed(p < 10 ? 1 : 0)} %`;
}

/** Text and attribute values in HTML and inline SVG. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A check's status; a report written before checks had one says only passed or not. */
export function statusOf(c: { status?: 'held' | 'failed' | 'inconclusive'; passed: boolean }): 'held' | 'failed' | 'inconclusive' {
  return c.status ?? (c.passed ? 'held' : 'failed');
}
