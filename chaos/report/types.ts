import type { RequestKind } from '../load/targets.js';
import type { CheckResult, NotApplicable } from '../record.js';

/** A check's verdict is part of the record (chaos/record.ts), which the checks import without the report. */
export type { CheckResult };

/**
 * A game day's report: what `report.json` holds, and what report.md,
 * report.html and `chaos compare` are rendered from. Times are ISO strings;
 * `second` counts from the start of the load.
 */
export interface GameDayReport {
  runId: string;
  scenario: { name: string; description: string; file: string };
  /** The lab layout or inventory it ran against. */
  target: { inventory: string; layout?: string };
  startedAt: string;
  endedAt: string;
  /** passed: every check held; failed: a check failed; aborted: stopped or an error before the end; refused: the pre-flight said no. */
  verdict: 'passed' | 'failed' | 'aborted' | 'refused';
  /** One line for people: why this verdict. */
  verdictReason: string;
  preflight: Preflight;
  /** Markers for the timeline: each fault, undo, failover event, response and check verdict. */
  events: TimelineEvent[];
  /** Requests per second since the load began. */
  timeline: TimelineSecond[];
  checks: CheckResult[];
  /** The checks the scenario asks for that do not apply to this run, and why (an old report has none). */
  checksNotApplicable?: NotApplicable[];
  load: LoadTotals;
  /** What the checks' own sampling cost: samples taken and their mean duration, per probe. */
  probes: Array<{ name: string; intervalMs: number; samples: number; meanMs: number; failedSamples: number }>;
}

export interface Preflight {
  faults: Array<{
    fault: string;
    target: string;
    hosts: string[];
    /** Per tier or pool the fault touches: members left against what it needs (for a network cut: as the side that serves sees it). */
    blastRadius: Array<{ what: string; left: number; needed: number; ok: boolean }>;
    /** A network cut (partition, one-way) has sides: what each one sees left, whether it can serve, and what it must stop doing. */
    sides?: Array<{ side: string; hosts: string[]; serves: boolean; detail: string }>;
  }>;
  /** true when every fault leaves every tier and pool enough members. */
  safe: boolean;
  /** The scenario said `expect: breaks` (the 2017 replay). */
  expectBreaks: boolean;
  steadyState: { ok: boolean; detail: string };
}

export interface TimelineEvent {
  at: string;
  /** Seconds since the load began (may be negative: before the load). */
  second: number;
  kind: 'fault' | 'undo' | 'failover' | 'response' | 'check' | 'note';
  label: string;
  detail?: string;
  /** For check markers: whether it held. */
  passed?: boolean;
}

export interface TimelineSecond {
  second: number;
  ok: Record<RequestKind, number>;
  failed: Record<RequestKind, number>;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadTotals {
  ratePerS: number;
  durationS: number;
  requests: number;
  failed: number;
  byKind: Record<RequestKind, { requests: number; failed: number; p50Ms: number; p99Ms: number }>;
  /** First to last failed request, in ms (0 when none failed). */
  errorWindowMs: number;
  firstFailureAt?: string;
  lastFailureAt?: string;
  acked: { created: number; markedRead: number };
  /** The failed requests (the first 200), each with every attempt's error, to look into. */
  failedRequests: Array<{ at: string; kind: RequestKind; ms: number; frontend?: string; servedBy?: string; error?: string }>;
}
