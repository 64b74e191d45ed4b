import type { RequestKind } from '../load/targets.js';
import { endOf, iso, type GameDayRecord, type NotApplicable } from '../record.js';
import type { CheckResult, GameDayReport, LoadTotals, Preflight, TimelineEvent, TimelineSecond } from './types.js';

const KINDS: RequestKind[] = ['read', 'create', 'mark-read'];
const zero = (): Record<RequestKind, number> => ({ read: 0, create: 0, 'mark-read': 0 });

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export function timelineOf(rec: GameDayRecord): TimelineSecond[] {
  const seconds = new Map<number, { ok: Record<RequestKind, number>; failed: Record<RequestKind, number>; ms: number[] }>();
  const last = Math.floor((rec.loadEndedAt - rec.loadStartedAt) / 1000);
  for (let s = 0; s <= last; s++) seconds.set(s, { ok: zero(), failed: zero(), ms: [] });
  for (const r of rec.requests) {
    const s = Math.floor((r.at - rec.loadStartedAt) / 1000);
    const bucket = seconds.get(s) ?? { ok: zero(), failed: zero(), ms: [] };
    (r.ok ? bucket.ok : bucket.failed)[r.kind] += 1;
    bucket.ms.push(r.ms);
    seconds.set(s, bucket);
  }
  return [...seconds].sort((a, b) => a[0] - b[0]).map(([second, b]) => {
    const ms = b.ms.sort((x, y) => x - y);
    return { second, ok: b.ok, failed: b.failed, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) };
  });
}

export function loadTotals(rec: GameDayRecord, ratePerS: number): LoadTotals {
  const byKind = Object.fromEntries(KINDS.map((k) => {
    const mine = rec.requests.filter((r) => r.kind === k);
    const ms = mine.map((r) => r.ms).sort((a, b) => a - b);
    return [k, { requests: mine.length, failed: mine.filter((r) => !r.ok).length, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99) }];
  })) as LoadTotals['byKind'];
  const failed = rec.requests.filter((r) => !r.ok);
  const first = failed.length ? Math.min(...failed.map((r) => r.at)) : undefined;
  const lastEnd = failed.length ? Math.max(...failed.map(endOf)) : undefined;
  const acked = rec.ackedWrites && !('error' in rec.ackedWrites) ? { created: rec.ackedWrites.created, markedRead: rec.ackedWrites.markedRead } : { created: 0, markedRead: 0 };
  return {
    ratePerS,
    durationS: Math.round((rec.loadEndedAt - rec.loadStartedAt) / 100) / 10,
    requests: rec.requests.length,
    failed: failed.length,
    byKind,
    errorWindowMs: first !== undefined && lastEnd !== undefined ? lastEnd - first : 0,
    firstFailureAt: first !== undefined ? iso(first) : undefined,
    lastFailureAt: lastEnd !== undefined ? iso(lastEnd) : undefined,
    acked,
    failedRequests: failed.slice(0, 200).map((r) => ({ at: iso(r.at), kind: r.kind, ms: r.ms, frontend: r.frontend, servedBy: r.servedBy, error: r.error })),
  };
}

/** Faults, undos, responses, and the failovers the probes saw (a new writable MariaDB or Redis primary). */
export function eventsOf(rec: GameDayRecord, checks: CheckResult[]): TimelineEvent[] {
  const ev = (at: number, kind: TimelineEvent['kind'], label: string, detail?: string, passed?: boolean): TimelineEvent => ({
    at: iso(at), second: Math.round((at - rec.loadStartedAt) / 100) / 10, kind, label, ...(detail ? { detail } : {}), ...(passed === undefined ? {} : { passed }),
  });
  const out: TimelineEvent[] = [ev(rec.faultsFrom, 'note', 'warm-up over', 'steady state held')];
  for (const f of rec.faults) {
    if (f.injectedAt) out.push(ev(f.injectedAt, 'fault', `${f.type} ${f.label}`, f.error));
    // The undo's marker sits where the fault stopped acting (its start); how long it waited for its slowest host is its detail.
    const undoAt = f.undoStartedAt ?? f.undoneAt;
    const took = f.undoStartedAt !== undefined && f.undoneAt !== undefined ? `back in ${((f.undoneAt - f.undoStartedAt) / 1000).toFixed(1)} s` : undefined;
    if (undoAt) out.push(ev(undoAt, 'undo', `undo ${f.type} ${f.label}`, took));
  }
  for (const r of rec.responses) {
    if (r.state !== 'skipped') out.push(ev(r.startedAt, 'response', `${r.runbook} started`, r.runId));
    if (r.endedAt) out.push(ev(r.endedAt, 'response', `${r.runbook} ${r.state}`, r.error));
  }
  let dbPrimary: string | undefined;
  for (const s of rec.fleet) {
    const writable = Object.entries(s.db).filter(([, d]) => d && !d.readOnly && !d.replicating).map(([n]) => n);
    if (writable.length === 1 && writable[0] !== dbPrimary) {
      if (dbPrimary) out.push(ev(s.at, 'failover', `MariaDB primary is ${writable[0]}`, `was ${dbPrimary}`));
      dbPrimary = writable[0];
    }
  }
  let named: string | undefined;
  for (const s of rec.fleet) {
    const votes = Object.values(s.sentinels ?? {}).filter((v): v is string => v !== null);
    const counts = new Map<string, number>();
    for (const v of votes) counts.set(v, (counts.get(v) ?? 0) + 1);
    const total = Object.keys(s.sentinels ?? {}).length;
    const majority = [...counts].find(([, n]) => n > total / 2)?.[0];
    if (majority && majority !== named) {
      if (named) out.push(ev(s.at, 'failover', `Sentinels name ${majority}`, `+switch-master from ${named}`));
      named = majority;
    }
  }
  let redisPrimary: string | undefined;
  for (const s of rec.redis) {
    if (s.writable.length === 1 && s.writable[0] !== redisPrimary) {
      if (redisPrimary) out.push(ev(s.at, 'failover', `Redis primary is ${s.writable[0]}`, `was ${redisPrimary}`));
      redisPrimary = s.writable[0];
    }
  }
  for (const c of checks) out.push(ev(Date.parse(c.at), 'check', `${c.id} ${c.status === 'held' ? 'held' : c.status === 'failed' ? 'FAILED' : 'INCONCLUSIVE'}`, c.detail, c.passed));
  return out.sort((a, b) => a.at.localeCompare(b.at));
}

export function probeCosts(rec: GameDayRecord, redisIntervalMs: number): GameDayReport['probes'] {
  const fleetMs = rec.fleet.map((s) => s.ms);
  const mean = (xs: number[]) => (xs.length ? Math.round((xs.reduce((a, b) => a + b, 0) / xs.length) * 10) / 10 : 0);
  const redisGaps = rec.redis.slice(1).map((s, i) => s.at - rec.redis[i].at);
  return [
    { name: 'haproxy + mariadb', intervalMs: rec.fleetIntervalMs, samples: rec.fleet.length, meanMs: mean(fleetMs), failedSamples: rec.fleet.filter((s) => Object.values(s.proxies).some((p) => p === null) || Object.values(s.db).some((d) => d === null)).length },
    { name: 'redis roles', intervalMs: redisIntervalMs, samples: rec.redis.length, meanMs: Math.round(Math.max(0, mean(redisGaps) - redisIntervalMs) * 10) / 10, failedSamples: rec.redis.filter((s) => s.masters.length === 0 || (s.unknown ?? []).length > 0).length },
  ];
}

export interface ReportHeader {
  runId: string;
  scenario: GameDayReport['scenario'];
  target: GameDayReport['target'];
  startedAt: string;
  preflight: Preflight;
  ratePerS: number;
  redisIntervalMs: number;
}

export function buildReport(h: ReportHeader, rec: GameDayRecord, checks: CheckResult[], verdict: GameDayReport['verdict'], verdictReason: string, notApplicable: NotApplicable[] = []): GameDayReport {
  return {
    runId: h.runId,
    scenario: h.scenario,
    target: h.target,
    startedAt: h.startedAt,
    endedAt: new Date().toISOString(),
    verdict,
    verdictReason,
    preflight: h.preflight,
    events: eventsOf(rec, checks),
    timeline: timelineOf(rec),
    checks,
    checksNotApplicable: notApplicable,
    load: loadTotals(rec, h.ratePerS),
    probes: probeCosts(rec, h.redisIntervalMs),
  };
}
