import { kindOf, type RequestKind } from './targets.js';

/** One request's result, as `vegeta encode --to json` writes it. */
export interface VegetaResult {
  timestamp: string;
  code: number;
  latency: number;
  error: string;
  method: string;
  url: string;
}

export interface KindSummary {
  requests: number;
  ok: number;
  failed: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface LoadSummary {
  requests: number;
  durationS: number;
  ratePerS: number;
  successRatio: number;
  byKind: Partial<Record<RequestKind, KindSummary>>;
  statusCodes: Record<string, number>;
  /** The most frequent errors, with counts. */
  errors: Array<{ error: string; count: number }>;
  /** Per second since the start: requests and failures (for timelines). */
  perSecond: Array<{ second: number; requests: number; failed: number }>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const isOk = (r: VegetaResult) => r.code >= 200 && r.code < 400 && !r.error;

function summarizeKind(results: VegetaResult[]): KindSummary {
  const ms = results.map((r) => r.latency / 1e6).sort((a, b) => a - b);
  const ok = results.filter(isOk).length;
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    requests: results.length,
    ok,
    failed: results.length - ok,
    p50Ms: round(percentile(ms, 50)),
    p95Ms: round(percentile(ms, 95)),
    p99Ms: round(percentile(ms, 99)),
    maxMs: round(ms[ms.length - 1] ?? 0),
  };
}

export function summarize(results: VegetaResult[]): LoadSummary {
  const times = results.map((r) => Date.parse(r.timestamp));
  const start = Math.min(...times);
  const end = Math.max(...times.map((t, i) => t + results[i].latency / 1e6));
  const durationS = results.length ? Math.max(0.001, (end - start) / 1000) : 0;
  const byKind: LoadSummary['byKind'] = {};
  for (const kind of ['read', 'create', 'mark-read'] as const) {
    const mine = results.filter((r) => kindOf(r.method, r.url) === kind);
    if (mine.length) byKind[kind] = summarizeKind(mine);
  }
  const statusCodes: Record<string, number> = {};
  const errorCounts = new Map<string, number>();
  const seconds = new Map<number, { requests: number; failed: number }>();
  results.forEach((r, i) => {
    statusCodes[String(r.code)] = (statusCodes[String(r.code)] ?? 0) + 1;
    if (r.error) errorCounts.set(r.error, (errorCounts.get(r.error) ?? 0) + 1);
    const second = Math.floor((times[i] - start) / 1000);
    const s = seconds.get(second) ?? { requests: 0, failed: 0 };
    s.requests++;
    if (!isOk(r)) s.failed++;
    seconds.set(second, s);
  });
  const ok = results.filter(isOk).length;
  return {
    requests: results.length,
    durationS: Math.round(durationS * 10) / 10,
    ratePerS: results.length ? Math.round((results.length / durationS) * 10) / 10 : 0,
    successRatio: results.length ? ok / results.length : 0,
    byKind,
    statusCodes,
    errors: [...errorCounts].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([error, count]) => ({ error, count })),
    perSecond: [...seconds].sort((a, b) => a[0] - b[0]).map(([second, s]) => ({ second, ...s })),
  };
}

export function renderSummary(s: LoadSummary): string {
  const lines = [
    `requests ${s.requests} in ${s.durationS} s (${s.ratePerS}/s), success ${(s.successRatio * 100).toFixed(2)} %`,
    ...Object.entries(s.byKind).map(
      ([kind, k]) => `  ${kind.padEnd(9)} ${String(k.requests).padStart(6)} req, ${String(k.failed).padStart(4)} failed, p50 ${k.p50Ms} ms, p95 ${k.p95Ms} ms, p99 ${k.p99Ms} ms, max ${k.maxMs} ms`,
    ),
    `  status codes: ${Object.entries(s.statusCodes).map(([c, n]) => `${c}=${n}`).join(' ')}`,
  ];
  if (s.errors.length) lines.push(...s.errors.map((e) => `  error x${e.count}: ${e.error}`));
  return lines.join('\n');
}
