import { readFileSync } from 'node:fs';
import { GamedayError } from '../core/errors.js';
import { hostname } from 'node:os';
import type { JournalEvent, RunEndState } from './types.js';

/** The start record's data (stepId "run", event "note", type "started"). */
export interface StartRecord {
  type: 'started';
  runbook: string;
  /** The raw parameters, as given (re-validated on resume). */
  params: Record<string, unknown>;
  plan: unknown;
  runbookVersion: string;
  parentRunId?: string;
  pid: number;
  hostname: string;
  steps: StepOutline[];
  locks: string[];
  /** Where the inventory and environment came from (for resume), as the caller recorded it. */
  environment?: Record<string, unknown>;
}

export interface StepOutline {
  id: string;
  title: string;
  kind: string;
  semantics?: string;
  group?: string;
}

export type StepStatus =
  | 'pending'
  | 'running'
  | 'succeeded'
  | 'skipped'
  | 'failed'
  | 'interrupted'
  | 'waiting-approval'
  | 'denied'
  | 'compensated';

export interface StepState {
  id: string;
  title: string;
  kind: string;
  semantics?: string;
  status: StepStatus;
  /** How many times an intent was written for it. */
  attempts: number;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  result?: unknown;
  error?: string;
  /** The last wait-for sample's detail, or the last note. */
  detail?: string;
  compensationFailed?: boolean;
}

export type RunStatus = RunEndState | 'running' | 'crashed';

export interface RunState {
  runId: string;
  start: StartRecord;
  state: RunStatus;
  startedAt: string;
  /** Time of the last event. */
  lastEventAt: string;
  /** Wall time from the start to the last end record (or the last event). */
  durationMs: number;
  steps: StepState[];
  /** Degraded marks still set: key -> message. */
  degraded: Map<string, string>;
  invocations: number;
  /** The process of the last invocation (run or resume). */
  pid: number;
  hostname: string;
  /** The step whose latest outcome is a failure, if any. */
  failedStep?: { id: string; error: string };
}

/** A step is done when it succeeded or was skipped (and not compensated since). */
export function isDone(step: StepState): boolean {
  return step.status === 'succeeded' || step.status === 'skipped';
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A zombie (killed, not yet reaped by its parent) runs nothing: it holds no lock and runs no step.
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true; // no /proc here: the signal said it exists
  }
}

/** Rebuilds a run's state from its journal alone. */
export function runStateFromJournal(runId: string, events: JournalEvent[]): RunState {
  const startEvent = events.find((e) => e.stepId === 'run' && e.event === 'note' && e.data?.type === 'started');
  if (!startEvent) throw new GamedayError('JOURNAL_NO_START', 'the journal has no start record, so the run cannot be shown or resumed', runId, 'it was cut short or written by something else: move its folder out of the runs folder');
  const start = startEvent.data as unknown as StartRecord;
  const steps = new Map<string, StepState>();
  for (const s of start.steps ?? []) steps.set(s.id, { ...s, status: 'pending', attempts: 0 });
  const degraded = new Map<string, string>();
  let invocation = { pid: start.pid, hostname: start.hostname, at: startEvent.time };
  let invocations = 0;
  let ended: { state: RunEndState; at: string } | undefined;

  for (const e of events) {
    const data = e.data ?? {};
    if (e.stepId === 'run') {
      if (data.type === 'started' || data.type === 'resumed') {
        invocations += 1;
        invocation = { pid: Number(data.pid), hostname: String(data.hostname), at: e.time };
        ended = undefined;
      } else if (data.type === 'finished') {
        ended = { state: data.state as RunEndState, at: e.time };
      }
    } else {
      let step = steps.get(e.stepId);
      if (!step) {
        step = { id: e.stepId, title: e.stepId, kind: String(data.kind ?? 'unknown'), status: 'pending', attempts: 0 };
        steps.set(e.stepId, step);
      }
      applyStepEvent(step, e);
    }
    if (e.event === 'note' && e.stepId !== 'run' && (typeof data.degraded === 'string' || data.degraded === null || data.degraded === false)) {
      const key = String(data.key ?? data.host ?? data.degraded);
      if (typeof data.degraded === 'string') degraded.set(key, data.degraded);
      else if (!degraded.delete(key)) {
        // Cleared by host or key while it was set by its text alone ("db-2 is drained"): match the leading word.
        for (const [k, text] of degraded) if (k.startsWith(`${key} `) || text.startsWith(`${key} `)) degraded.delete(k);
      }
    }
  }

  const last = events[events.length - 1];
  let state: RunStatus;
  if (ended) state = ended.state;
  else if (invocation.hostname === hostname() && !processAlive(invocation.pid)) state = 'crashed';
  else state = 'running';
  const endAt = ended?.at ?? last.time;
  const failed = [...steps.values()].filter((s) => s.status === 'failed').sort((a, b) => (a.endedAt ?? '').localeCompare(b.endedAt ?? ''));
  const failedStep = failed.length > 0 ? { id: failed[failed.length - 1].id, error: failed[failed.length - 1].error ?? 'failed' } : undefined;
  return {
    runId,
    start,
    state,
    startedAt: startEvent.time,
    lastEventAt: last.time,
    durationMs: Date.parse(endAt) - Date.parse(startEvent.time),
    steps: [...steps.values()],
    degraded,
    invocations,
    pid: invocation.pid,
    hostname: invocation.hostname,
    failedStep,
  };
}

function applyStepEvent(step: StepState, e: JournalEvent): void {
  const data = e.data ?? {};
  switch (e.event) {
    case 'intent':
      step.status = 'running';
      step.attempts += 1;
      step.startedAt = e.time;
      step.endedAt = undefined;
      step.durationMs = undefined;
      step.error = undefined;
      step.compensationFailed = undefined;
      break;
    case 'succeeded':
    case 'failed':
    case 'skipped':
      step.status = e.event;
      step.endedAt = e.time;
      step.durationMs = typeof data.durationMs === 'number' ? data.durationMs : step.startedAt ? Date.parse(e.time) - Date.parse(step.startedAt) : 0;
      if (e.event === 'succeeded') step.result = data.result;
      if (e.event === 'failed') {
        step.error = String(data.error ?? 'failed');
      }
      if (e.event === 'skipped' && data.reason) step.detail = String(data.reason);
      break;
    case 'approval':
      if (data.state === 'requested') step.status = 'waiting-approval';
      else if (data.state === 'denied') {
        step.status = 'denied';
        step.endedAt = e.time;
      }
      break;
    case 'note':
      if (data.type === 'interrupted') {
        step.status = 'interrupted';
        step.endedAt = e.time;
      } else if (data.type === 'compensated') step.status = 'compensated';
      else if (data.type === 'compensation-failed') step.compensationFailed = true;
      else if (data.type === 'sample' && data.detail !== undefined) step.detail = String(data.detail);
      else if (typeof data.message === 'string') step.detail = data.message;
      break;
  }
}

/** The step a run was in at `time`: the last one whose intent came before it (to place a fault or a failure in a run). */
export function stepRunningAt(events: Array<Pick<JournalEvent, 'time' | 'stepId' | 'event'>>, time: string): string {
  return events.filter((e) => e.event === 'intent' && e.time <= time).at(-1)?.stepId ?? 'before the first step';
}
