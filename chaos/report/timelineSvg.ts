/*
 * The report's timeline, drawn as inline SVG by hand rather than with a chart
 * library: no dependency to vet or update, no script has to run for it to
 * show, and the file prints and opens anywhere (a mail attachment, an
 * air-gapped laptop, a CI artifact) exactly as it was written.
 */
import type { RequestKind } from '../load/targets.js';
import { REQUEST_KINDS, escapeHtml as esc, formatMs } from './format.js';
import type { GameDayReport, TimelineEvent, TimelineSecond } from './types.js';

/** Exported so the Chromium test can look for these exact pixels. */
export const CHART_COLOURS = {
  ok: { read: '#4f7fc4', create: '#86aee0', 'mark-read': '#b9d0ee' } as Record<RequestKind, string>,
  failed: { read: '#c8102e', create: '#ef5b5b', 'mark-read': '#f7a1a1' } as Record<RequestKind, string>,
  p50: '#6e6e6e',
  p99: '#111111',
};

interface MarkerStyle {
  colour: string;
  dash: string;
  width: number;
  name: string;
}

function markerStyle(e: TimelineEvent): MarkerStyle {
  switch (e.kind) {
    case 'fault':
      return { colour: '#b00020', dash: '', width: 2.2, name: 'fault' };
    case 'undo':
      return { colour: '#1b8a5a', dash: '7 4', width: 2, name: 'undo' };
    case 'failover':
      return { colour: '#d9730d', dash: '3 3', width: 1.8, name: 'failover' };
    case 'response':
      return { colour: '#6b4fbb', dash: '9 3 2 3', width: 1.8, name: 'response' };
    case 'check':
      return e.passed === false
        ? { colour: '#b00020', dash: '1.5 2.5', width: 2, name: 'check failed' }
        : { colour: '#1b8a5a', dash: '1.5 2.5', width: 2, name: 'check held' };
    default:
      return { colour: '#8a8a8a', dash: '1.5 3', width: 1.2, name: 'note' };
  }
}

// Geometry, in viewBox units (the SVG scales to the page width).
const WIDTH = 1120;
const LEFT = 62;
const RIGHT = 72;
const PLOT_HEIGHT = 300;
const EMPTY_PLOT_HEIGHT = 120;
const LANE_HEIGHT = 17;
const MAX_LANES = 5;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", Arial, sans-serif';
const plotWidth = WIDTH - LEFT - RIGHT;

/** A rough width of 11 px text: good enough to keep labels apart. */
const textWidth = (s: string, size = 11) => s.length * size * 0.56;

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above x. */
function niceCeil(x: number): number {
  if (x <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(x));
  return [1, 2, 2.5, 5, 10].map((m) => m * p).find((v) => v >= x - 1e-9)!;
}

/** Tick step for the time axis: ≤ 12 ticks, on steps people count in (every 5 s, 30 s, a minute). */
function timeStep(span: number): number {
  return [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].find((s) => span / s <= 12) ?? 7200;
}

function timeLabel(s: number, span: number): string {
  if (span <= 180) return `${s} s`;
  const a = Math.abs(s);
  return `${s < 0 ? '-' : ''}${Math.floor(a / 60)}:${String(a % 60).padStart(2, '0')}`;
}

const sumKinds = (r: Record<RequestKind, number>) => REQUEST_KINDS.reduce((n, k) => n + (r[k] ?? 0), 0);
const fmt = (n: number) => Number(n.toFixed(1)).toString();

interface PlacedEvent {
  e: TimelineEvent;
  style: MarkerStyle;
  label: string;
  /** x of the marker. */
  at: number;
  lane: number;
  /** The label is drawn to the left of its marker (it would run off the right edge). */
  leftwards: boolean;
}

/** Where everything goes: the time axis, the event lanes above the plot, the request and latency scales. */
interface Layout {
  timeline: TimelineSecond[];
  events: TimelineEvent[];
  loadSeconds: number;
  x0: number;
  x1: number;
  span: number;
  x: (s: number) => number;
  placed: PlacedEvent[];
  top: number;
  plotHeight: number;
  bottom: number;
  yStep: number;
  yTicks: number;
  y: (v: number) => number;
  latencies: number[];
  lo: number;
  hi: number;
  yLat: (v: number) => number;
}

/**
 * The chart as an <svg id="timeline"> element for inline use in HTML (no
 * xmlns needed there). `data-seconds` is the seconds of load drawn as bars.
 */
export function renderTimelineSvg(r: GameDayReport): string {
  const l = layout(r);
  const { timeline, events, loadSeconds, top, plotHeight, bottom } = l;
  const failedTotal = timeline.reduce((n, t) => n + sumKinds(t.failed), 0);
  const barWidth = plotWidth / l.span;
  const thin = barWidth <= 3;
  const time = timeAxis(l);
  const out: string[] = [...requestAxis(l), ...time.svg, ...bars(l, barWidth, thin), ...latencyLines(l, thin)];
  if (!timeline.length) {
    out.push(`<text x="${LEFT + plotWidth / 2}" y="${top + plotHeight / 2}" text-anchor="middle" class="empty">no load recorded</text>`);
  }
  out.push(`<rect x="${LEFT}" y="${top}" width="${plotWidth}" height="${plotHeight}" fill="none" stroke="#c4c8cc"/>`);
  out.push(...eventMarkers(l));

  const legend = renderLegend(time.drawn ? bottom + 52 : bottom + 10, timeline.length > 0, failedTotal > 0, l.latencies.length > 0, l.placed.map((p) => p.style));
  const height = legend.bottom + 8;
  return (
    `<svg id="timeline" data-seconds="${loadSeconds}" viewBox="0 0 ${WIDTH} ${height}" width="100%" role="img" ` +
    `aria-label="Requests per second and latency over ${loadSeconds} s of load, with ${events.length} events" ` +
    `style="font-family:${esc(FONT)};font-size:11px;fill:#333">` +
    `<style>.axis-title{font-size:12px;fill:#555}.event-label{font-size:11px;font-weight:600}.empty{font-size:18px;fill:#888}</style>` +
    out.join('') +
    legend.svg +
    '</svg>'
  );
}

function layout(r: GameDayReport): Layout {
  const timeline = [...r.timeline].sort((a, b) => a.second - b.second);
  const events = [...r.events].filter((e) => Number.isFinite(e.second)).sort((a, b) => a.second - b.second);
  const first = timeline.length ? timeline[0].second : 0;
  const last = timeline.length ? timeline[timeline.length - 1].second + 1 : 0;

  // The time axis spans the load and every event (a fault may come before the load, a check after it).
  const x0 = Math.min(first, ...events.map((e) => Math.floor(e.second)));
  let x1 = Math.max(last, ...events.map((e) => Math.ceil(e.second)));
  if (x1 <= x0) x1 = x0 + 10;
  const span = x1 - x0;
  const x = (s: number) => LEFT + ((s - x0) / span) * plotWidth;

  const { placed, lanes } = placeLabels(events, x);
  const top = 14 + lanes * LANE_HEIGHT;
  const plotHeight = timeline.length ? PLOT_HEIGHT : EMPTY_PLOT_HEIGHT;
  const bottom = top + plotHeight;

  // Requests per second, left axis.
  const peak = Math.max(0, ...timeline.map((t) => sumKinds(t.ok) + sumKinds(t.failed)));
  const yStep = niceCeil((peak * 1.05) / 5);
  const yTicks = Math.max(1, Math.ceil((peak * 1.05) / yStep));
  const yMax = yStep * yTicks;
  const y = (v: number) => bottom - (v / yMax) * plotHeight;

  // Latency, right axis, log scale: a failover's p99 is 100× the steady p50.
  const latencies = timeline.flatMap((t) => [t.p50Ms, t.p99Ms]).filter((v) => v > 0);
  const lo = latencies.length ? 10 ** Math.floor(Math.log10(Math.min(...latencies))) : 1;
  let hi = latencies.length ? 10 ** Math.ceil(Math.log10(Math.max(...latencies))) : 10;
  if (hi <= lo) hi = lo * 10;
  const yLat = (v: number) => bottom - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotHeight;

  return { timeline, events, loadSeconds: last - first, x0, x1, span, x, placed, top, plotHeight, bottom, yStep, yTicks, y, latencies, lo, hi, yLat };
}

/** Event labels sit in lanes above the plot; each goes into the first lane where it does not overlap. */
function placeLabels(events: TimelineEvent[], x: (s: number) => number): { placed: PlacedEvent[]; lanes: number } {
  const laneEnds: number[] = [];
  const placed = events.map((e) => {
    const style = markerStyle(e);
    const mark = e.kind === 'check' ? (e.passed === false ? '✗ ' : '✓ ') : '';
    const label = mark + (e.label.length > 34 ? `${e.label.slice(0, 33)}…` : e.label);
    const at = x(e.second);
    const w = textWidth(label) + 8;
    const leftwards = at + w > WIDTH - 4;
    const from = leftwards ? at - w : at;
    let lane = laneEnds.findIndex((end) => end < from);
    if (lane === -1) lane = laneEnds.length < MAX_LANES ? laneEnds.length : MAX_LANES - 1;
    laneEnds[lane] = Math.max(laneEnds[lane] ?? -Infinity, from + w);
    return { e, style, label, at, lane, leftwards };
  });
  return { placed, lanes: Math.max(1, laneEnds.length) };
}

/** Grid and left axis. */
function requestAxis({ timeline, yStep, yTicks, y, top, plotHeight }: Layout): string[] {
  const out = ['<g class="axis axis-requests">'];
  if (timeline.length) {
    for (let i = 0; i <= yTicks; i++) {
      const v = yStep * i;
      out.push(`<line x1="${LEFT}" x2="${LEFT + plotWidth}" y1="${fmt(y(v))}" y2="${fmt(y(v))}" stroke="${i ? '#e6e8eb' : '#9aa0a6'}"/>`);
      out.push(`<text x="${LEFT - 8}" y="${fmt(y(v) + 4)}" text-anchor="end">${fmt(v)}</text>`);
    }
    out.push(`<text transform="translate(16 ${fmt(top + plotHeight / 2)}) rotate(-90)" text-anchor="middle" class="axis-title">requests / s</text>`);
  }
  out.push('</g>');
  return out;
}

/** Time axis (none when there is nothing to place on it). */
function timeAxis({ timeline, events, x0, x1, span, x, top, bottom }: Layout): { svg: string[]; drawn: boolean } {
  const step = timeStep(span);
  const drawn = timeline.length > 0 || events.length > 0;
  const out = ['<g class="axis axis-time">'];
  for (let s = Math.ceil(x0 / step) * step; drawn && s <= x1; s += step) {
    out.push(`<line x1="${fmt(x(s))}" x2="${fmt(x(s))}" y1="${top}" y2="${bottom + 5}" stroke="#eef0f2"/>`);
    out.push(`<line x1="${fmt(x(s))}" x2="${fmt(x(s))}" y1="${bottom}" y2="${bottom + 5}" stroke="#9aa0a6"/>`);
    out.push(`<text x="${fmt(x(s))}" y="${bottom + 18}" text-anchor="middle">${timeLabel(s, span)}</text>`);
  }
  if (drawn) out.push(`<text x="${LEFT + plotWidth / 2}" y="${bottom + 36}" text-anchor="middle" class="axis-title">seconds since the load began</text>`);
  out.push('</g>');
  return { svg: out, drawn };
}

/**
 * Bars: per second, successful requests by kind, failed ones stacked on top in red.
 * Wide bars get a gap and crisp edges; thin ones (long runs) overlap a hair
 * instead, because snapping 1.6 px bars to pixels leaves white seams.
 */
function bars({ timeline, x, y }: Layout, barWidth: number, thin: boolean): string[] {
  const gap = barWidth > 6 ? 1.2 : thin ? -0.4 : 0.5;
  const out = [`<g class="bars"${thin ? '' : ' shape-rendering="crispEdges"'}>`];
  for (const t of timeline) {
    let stacked = 0;
    const rects: string[] = [];
    const layer = (count: number, cls: string, colour: string) => {
      if (!(count > 0)) return;
      const yTop = y(stacked + count);
      rects.push(`<rect class="${cls}" x="${fmt(x(t.second) + gap / 2)}" y="${fmt(yTop)}" width="${fmt(barWidth - gap)}" height="${fmt(y(stacked) - yTop)}" fill="${colour}"/>`);
      stacked += count;
    };
    for (const k of REQUEST_KINDS) layer(t.ok[k], `bar-ok kind-${k}`, CHART_COLOURS.ok[k]);
    for (const k of REQUEST_KINDS) layer(t.failed[k], `bar-failed kind-${k}`, CHART_COLOURS.failed[k]);
    if (rects.length) out.push(`<g><title>${esc(secondTitle(t))}</title>${rects.join('')}</g>`);
  }
  out.push('</g>');
  return out;
}

/** Latency lines on the right axis; a second without requests breaks the line. */
function latencyLines({ timeline, x, latencies, lo, hi, yLat, top, bottom, plotHeight }: Layout, thin: boolean): string[] {
  if (!latencies.length) return [];
  const out = ['<g class="axis axis-latency">'];
  for (let d = lo; d <= hi * 1.0001; d *= 10) {
    const marks = hi / lo <= 100 ? [1, 2, 5] : [1];
    for (const m of marks) {
      const v = d * m;
      if (v > hi * 1.0001) break;
      out.push(`<line x1="${LEFT + plotWidth}" x2="${LEFT + plotWidth + 5}" y1="${fmt(yLat(v))}" y2="${fmt(yLat(v))}" stroke="#9aa0a6"/>`);
      out.push(`<text x="${LEFT + plotWidth + 8}" y="${fmt(yLat(v) + 4)}">${v >= 1000 ? `${v / 1000} s` : `${v} ms`}</text>`);
    }
  }
  out.push(`<line x1="${LEFT + plotWidth}" x2="${LEFT + plotWidth}" y1="${top}" y2="${bottom}" stroke="#9aa0a6"/>`);
  out.push(`<text transform="translate(${WIDTH - 10} ${fmt(top + plotHeight / 2)}) rotate(90)" text-anchor="middle" class="axis-title">latency (log scale)</text>`);
  out.push('</g>');
  const path = (pick: (t: TimelineSecond) => number) => {
    let d = '';
    let pen = false;
    for (const t of timeline) {
      const v = pick(t);
      if (!(v > 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${fmt(x(t.second + 0.5))} ${fmt(yLat(v))}`;
      pen = true;
    }
    return d;
  };
  // A white halo under each line keeps it readable where it crosses the bars.
  const halo = (d: string) => `<path d="${d}" fill="none" stroke="#fff" stroke-opacity="${thin ? 0.6 : 0.85}" stroke-width="${thin ? 3 : 4.5}" stroke-linejoin="round"/>`;
  const p50 = path((t) => t.p50Ms);
  const p99 = path((t) => t.p99Ms);
  out.push(halo(p50), `<path class="line-p50" d="${p50}" fill="none" stroke="${CHART_COLOURS.p50}" stroke-width="1.5" stroke-linejoin="round"/>`);
  out.push(halo(p99), `<path class="line-p99" d="${p99}" fill="none" stroke="${CHART_COLOURS.p99}" stroke-width="1.8" stroke-linejoin="round"/>`);
  return out;
}

/** Event markers: a line through the plot up to its label's lane. */
function eventMarkers({ placed, bottom }: Layout): string[] {
  const out = ['<g class="events">'];
  for (const p of placed) {
    const laneY = 12 + p.lane * LANE_HEIGHT + 10;
    const { colour, dash, width } = p.style;
    const title = `${p.e.kind} at ${p.e.second.toFixed(1)} s: ${p.e.label}${p.e.detail ? ` (${p.e.detail})` : ''}`;
    out.push(
      `<g class="event-marker event-${p.e.kind}"><title>${esc(title)}</title>` +
        `<line x1="${fmt(p.at)}" x2="${fmt(p.at)}" y1="${laneY - 9}" y2="${bottom}" stroke="${colour}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>` +
        `<text x="${fmt(p.at + (p.leftwards ? -4 : 4))}" y="${laneY}" text-anchor="${p.leftwards ? 'end' : 'start'}" fill="${colour}" class="event-label">${esc(p.label)}</text></g>`,
    );
  }
  out.push('</g>');
  return out;
}

function secondTitle(t: TimelineSecond): string {
  const ok = sumKinds(t.ok);
  const failed = REQUEST_KINDS.filter((k) => t.failed[k] > 0).map((k) => `${t.failed[k]} ${k}`);
  return `${t.second} s: ${ok} ok, ${failed.length ? `failed ${failed.join(', ')}` : 'none failed'}; p50 ${formatMs(t.p50Ms)}, p99 ${formatMs(t.p99Ms)}`;
}

/** One or more rows of swatches under the time axis; only what the chart shows. */
function renderLegend(startY: number, anyLoad: boolean, anyFailed: boolean, anyLatency: boolean, markers: MarkerStyle[]): { svg: string; bottom: number } {
  const items: Array<{ label: string; swatch: (x: number, y: number) => string }> = [];
  const box = (colour: string) => (x: number, y: number) => `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${colour}"/>`;
  const line = (colour: string, dash: string, width: number) => (x: number, y: number) =>
    `<line x1="${x}" x2="${x + 16}" y1="${y - 3}" y2="${y - 3}" stroke="${colour}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`;
  const vline = (m: MarkerStyle) => (x: number, y: number) =>
    `<line x1="${x + 6}" x2="${x + 6}" y1="${y - 11}" y2="${y + 3}" stroke="${m.colour}" stroke-width="${m.width}"${m.dash ? ` stroke-dasharray="${m.dash}"` : ''}/>`;

  if (anyLoad) {
    for (const k of REQUEST_KINDS) items.push({ label: `${k} ok`, swatch: box(CHART_COLOURS.ok[k]) });
    if (anyFailed) for (const k of REQUEST_KINDS) items.push({ label: `${k} failed`, swatch: box(CHART_COLOURS.failed[k]) });
    else items.push({ label: 'no failed requests', swatch: () => '' });
  }
  if (anyLatency) {
    items.push({ label: 'p50 latency', swatch: line(CHART_COLOURS.p50, '', 1.5) });
    items.push({ label: 'p99 latency', swatch: line(CHART_COLOURS.p99, '', 1.8) });
  }
  const seen = new Set<string>();
  for (const m of markers) {
    if (seen.has(m.name)) continue;
    seen.add(m.name);
    items.push({ label: m.name, swatch: vline(m) });
  }

  let cx = LEFT;
  let cy = startY;
  const parts: string[] = ['<g class="legend">'];
  for (const item of items) {
    const w = 22 + textWidth(item.label) + 18;
    if (cx + w > WIDTH - 8) {
      cx = LEFT;
      cy += 20;
    }
    parts.push(item.swatch(cx, cy), `<text x="${cx + 20}" y="${cy + 1}">${esc(item.label)}</text>`);
    cx += w;
  }
  parts.push('</g>');
  return { svg: parts.join(''), bottom: items.length ? cy + 8 : startY - 10 };
}
