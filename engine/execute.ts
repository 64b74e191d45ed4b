import type { Logger } from 'pino';
import type { Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { ApprovalStep, Notifier, RegisteredRunbook, RunEndState, RunEnvironment, RunOutcome, Step, StepContext } from './types.js';
import type { Approver } from './approval.js';
import { jsonSafe, type JournalWriter } from './journal.js';
import type { LockSet } from './locks.js';
import type { ProgressSink } from './progress.js';
import type { StepStatus } from './runState.js';
import { notices } from './notifications.js';
import { waitFor } from './waitFor.js';

/** Everything one invocation (run or resume) of a run works with. */
export interface ActiveRun {
  entry: RegisteredRunbook;
  runId: string;
  params: unknown;
  plan: unknown;
  steps: Step[];
  inventory: Inventory;
  env: RunEnvironment;
  journal: JournalWriter;
  locks: LockSet;
  log: Logger;
  notifier: Notifier;
  progress: ProgressSink;
  approver?: Approver;
  yes: boolean;
  /** Aborted on SIGINT/SIGTERM (through the caller's signal) or when a lock is lost. */
  controller: AbortController;
  /** Live status of every step (from the journal on resume). */
  status: Map<string, StepStatus>;
  results: Record<string, unknown>;
  /** Each step's own notes (ctx.note data), earlier attempts' from the journal on resume. */
  notes: Map<string, Array<Record<string, unknown>>>;
  assumeDone: Set<string>;
  retry: Set<string>;
  resumed: boolean;
  runChild: (child: RegisteredRunbook, params: Record<string, unknown>) => Promise<RunOutcome>;
}

export interface ExecutionEnd {
  state: RunEndState;
  stopReason?: string;
}

type StepEnd = 'succeeded' | 'failed' | 'waiting-approval' | 'denied' | 'interrupted';

function errorText(err: unknown): string {
  if (err instanceof GamedayError) return err.describe().replace(/\n\s*/g, ' ');
  return err instanceof Error ? err.message : String(err);
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'stop requested';
}

function stepContext(run: ActiveRun, step: Step, signal: AbortSignal = run.controller.signal): StepContext {
  return {
    runId: run.runId,
    params: run.params,
    plan: run.plan,
    inventory: run.inventory,
    env: run.env,
    log: run.log.child({ stepId: step.id }),
    results: run.results,
    previously: run.status.get(step.id) ?? 'pending',
    signal,
    earlierNotes: [...(run.notes.get(step.id) ?? [])],
    note: async (message, data) => {
      const record = { ...data, message, type: 'note' };
      run.journal.write(step.id, 'note', record);
      run.notes.set(step.id, [...(run.notes.get(step.id) ?? []), record]);
      run.progress({ type: 'message', text: `      ${message}` }); // what a long step is doing, as it does it
    },
    runChild: run.runChild,
  };
}

type Indexed = { step: Step; index: number };
/** A run of steps: one after another, or a block of lanes side by side. */
type Unit = { kind: 'sequence'; items: Indexed[] } | { kind: 'lanes'; block: string; concurrency: number; lanes: Indexed[][] };

/** The steps cut into units: each block of consecutive steps with the same `lane.block` is one unit of lanes. */
function unitsOf(steps: Step[]): Unit[] {
  const units: Unit[] = [];
  steps.forEach((step, index) => {
    const last = units.at(-1);
    if (!step.lane) {
      if (last?.kind === 'sequence') last.items.push({ step, index });
      else units.push({ kind: 'sequence', items: [{ step, index }] });
      return;
    }
    let unit = last?.kind === 'lanes' && last.block === step.lane.block ? last : undefined;
    if (!unit) {
      unit = { kind: 'lanes', block: step.lane.block, concurrency: Math.max(1, step.lane.concurrency), lanes: [] };
      units.push(unit);
    }
    const laneKey = step.lane.lane;
    const lane = unit.lanes.find((l) => l[0]!.step.lane!.lane === laneKey);
    if (lane) lane.push({ step, index });
    else unit.lanes.push([{ step, index }]);
  });
  return units;
}

/**
 * Runs the steps in order from the first that is not done; stops at the first
 * failure, approval wait or stop request. A block of lanes runs its lanes side
 * by side (see StepBase.lane).
 */
export async function executeSteps(run: ActiveRun): Promise<ExecutionEnd> {
  for (const unit of unitsOf(run.steps)) {
    const end = unit.kind === 'sequence' ? await runSequence(run, unit.items) : await runLanes(run, unit);
    if (end) return end;
  }
  return { state: 'succeeded' };
}

/** At most `concurrency` lanes at once; the first lane to end badly halts the others at their next step. */
async function runLanes(run: ActiveRun, unit: Extract<Unit, { kind: 'lanes' }>): Promise<ExecutionEnd | undefined> {
  const queue = [...unit.lanes];
  const ends: ExecutionEnd[] = [];
  let halted = false;
  const worker = async () => {
    for (let lane = queue.shift(); lane && !halted; lane = queue.shift()) {
      const end = await runSequence(run, lane, () => halted);
      if (end && end.state !== 'succeeded') {
        halted = true;
        ends.push(end);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(unit.concurrency, unit.lanes.length) }, worker));
  // A failure outranks a wait for approval, which outranks a stop.
  for (const state of ['failed', 'waiting-approval', 'stopped'] as const) {
    const end = ends.find((e) => e.state === state);
    if (end) return end;
  }
  return undefined;
}

/** Steps one after another; undefined when all are done. `halted` (another lane ended badly) stops before the next step. */
async function runSequence(run: ActiveRun, items: Indexed[], halted: () => boolean = () => false): Promise<ExecutionEnd | undefined> {
  const total = run.steps.length;
  for (const { step, index } of items) {
    const before = run.status.get(step.id) ?? 'pending';
    if (before === 'succeeded' || before === 'skipped') {
      run.progress({ type: 'step-done-before', index, total, id: step.id, title: step.title, status: before });
      continue;
    }
    if (halted()) return { state: 'succeeded' };
    if (run.controller.signal.aborted) return stop(run, abortReason(run.controller.signal));
    if (run.assumeDone.has(step.id)) {
      run.journal.write(step.id, 'skipped', { reason: 'assumed done by the operator (--assume-done)', previously: before });
      run.status.set(step.id, 'skipped');
      run.progress({ type: 'step-end', index, total, id: step.id, title: step.title, status: 'skipped', durationMs: 0 });
      continue;
    }
    if (run.retry.has(step.id)) {
      run.journal.write(step.id, 'note', { type: 'retry', message: `run again by the operator (--retry), previously ${before}` });
    } else if (step.kind === 'action' && (before === 'running' || before === 'interrupted')) {
      run.journal.write(step.id, 'note', { type: 're-run', message: 'no outcome recorded for the last attempt; the action is idempotent: running it again' });
    }
    const end = await runStep(run, step, index);
    switch (end) {
      case 'succeeded':
        continue;
      case 'failed':
        await compensate(run, step);
        return { state: 'failed' };
      case 'waiting-approval':
        return { state: 'waiting-approval' };
      case 'denied':
        return stop(run, `approval denied at step ${step.id}`);
      case 'interrupted':
        return stop(run, abortReason(run.controller.signal));
    }
  }
  return undefined;
}

function stop(run: ActiveRun, reason: string): ExecutionEnd {
  run.journal.write('run', 'note', { type: 'stopping', message: `stopped: ${reason}; resume with "gameday runbook resume ${run.runId}"`, reason });
  return { state: 'stopped', stopReason: reason };
}

async function runStep(run: ActiveRun, step: Step, index: number): Promise<StepEnd> {
  const total = run.steps.length;
  const ctx = stepContext(run, step);
  const started = Date.now();
  const end = (status: string, error?: string) =>
    run.progress({ type: 'step-end', index, total, id: step.id, title: step.title, status, durationMs: Date.now() - started, error });
  const fail = async (err: unknown): Promise<StepEnd> => {
    const error = errorText(err);
    run.journal.write(step.id, 'failed', { error, ...(err instanceof GamedayError ? { code: err.code } : {}), durationMs: Date.now() - started });
    run.status.set(step.id, 'failed');
    end('failed', error);
    run.log.error({ stepId: step.id, err: error }, `step ${step.id} failed`);
    await run.notifier.send(notices.stepFailed(run.runId, run.entry.runbook.name, step.id, step.title, error));
    return 'failed';
  };

  let stepLocks: string[] = [];
  try {
    stepLocks = await run.locks.acquire(step.locks ?? []);
  } catch (err) {
    return fail(err);
  }
  try {
    run.progress({ type: 'step-start', index, total, id: step.id, title: step.title, kind: step.kind, what: step.kind === 'wait-for' ? step.what : undefined });
    run.journal.write(step.id, 'intent', intentData(run, step, ctx));
    run.status.set(step.id, 'running');
    let result: unknown;
    switch (step.kind) {
      case 'probe':
      case 'action':
        result = await step.run(ctx);
        break;
      case 'notify': {
        const text = step.message(ctx);
        await run.notifier.send(text);
        result = { message: text };
        break;
      }
      case 'wait-for': {
        let last = '';
        result = await waitFor(step, ctx, (s) => {
          run.progress({ type: 'wait-sample', index, total, id: step.id, what: step.what, ...s, timeoutMs: step.timeoutMs });
          const key = `${s.ok}:${s.detail}`;
          if (key !== last) run.journal.write(step.id, 'note', { type: 'sample', ok: s.ok, detail: s.detail, streak: s.streak, elapsedMs: s.elapsedMs });
          last = key;
        });
        break;
      }
      case 'approval': {
        const answer = await approve(run, step, ctx);
        if (answer !== 'granted') {
          run.status.set(step.id, answer);
          end(answer);
          return answer;
        }
        result = { approved: true };
        break;
      }
    }
    const safe = jsonSafe(result);
    run.journal.write(step.id, 'succeeded', { result: safe, durationMs: Date.now() - started });
    run.results[step.id] = safe;
    run.status.set(step.id, 'succeeded');
    end('succeeded');
    return 'succeeded';
  } catch (err) {
    if (run.controller.signal.aborted) {
      run.journal.write(step.id, 'note', { type: 'interrupted', message: `interrupted: ${abortReason(run.controller.signal)}`, error: errorText(err), durationMs: Date.now() - started });
      run.status.set(step.id, 'interrupted');
      end('interrupted');
      return 'interrupted';
    }
    return fail(err);
  } finally {
    run.locks.release(stepLocks);
  }
}

function intentData(run: ActiveRun, step: Step, ctx: StepContext): Record<string, unknown> {
  const data: Record<string, unknown> = { kind: step.kind, title: step.title };
  if (step.group) data.group = step.group;
  if (step.locks?.length) data.locks = step.locks;
  if (step.kind === 'action') {
    data.semantics = step.semantics;
    try {
      const d = step.describe(ctx);
      data.target = d.target;
      if (d.inputs) data.inputs = d.inputs;
    } catch (err) {
      data.describeError = errorText(err);
    }
  }
  if (step.kind === 'wait-for') Object.assign(data, { what: step.what, intervalMs: step.intervalMs, timeoutMs: step.timeoutMs, consecutive: step.consecutive ?? 1 });
  return data;
}

/** --yes approves; else a person at a terminal; else the run stops here, resumable with --yes. */
async function approve(run: ActiveRun, step: ApprovalStep, ctx: StepContext): Promise<'granted' | 'denied' | 'waiting-approval'> {
  const prompt = step.prompt(ctx);
  if (run.yes) {
    run.journal.write(step.id, 'approval', { state: 'granted', by: '--yes', prompt });
    return 'granted';
  }
  run.journal.write(step.id, 'approval', { state: 'requested', prompt });
  await run.notifier.send(notices.waitingApproval(run.runId, run.entry.runbook.name, step.id, prompt, Boolean(run.approver)));
  if (!run.approver) {
    run.progress({ type: 'message', text: `approval needed at step ${step.id}: ${prompt}\n  no terminal to ask on: approve with "gameday runbook resume ${run.runId} --yes"` });
    return 'waiting-approval';
  }
  const answer = await run.approver({ runId: run.runId, stepId: step.id, prompt }, ctx.signal);
  run.journal.write(step.id, 'approval', { state: answer, by: 'terminal' });
  return answer;
}

/**
 * After a step of group G failed: undo the completed actions of G that
 * declare `compensate`, last first. Each is journaled (compensating, then
 * compensated or compensation-failed); a compensated step counts as not done,
 * so resume runs it again. A failed compensation marks the run degraded.
 * Compensation runs to the end even when a stop was requested.
 */
async function compensate(run: ActiveRun, failed: Step): Promise<void> {
  if (!failed.group) return;
  const todo = run.steps.filter((s) => s.group === failed.group && s.id !== failed.id && s.kind === 'action' && s.compensate && run.status.get(s.id) === 'succeeded').reverse();
  for (const step of todo) {
    if (step.kind !== 'action' || !step.compensate) continue;
    const started = Date.now();
    run.journal.write(step.id, 'note', { type: 'compensating', message: `undoing ${step.id} because ${failed.id} failed` });
    run.progress({ type: 'message', text: `      compensating ${step.id} (${step.title}) because ${failed.id} failed` });
    try {
      await step.compensate(stepContext(run, step, new AbortController().signal));
      run.journal.write(step.id, 'note', { type: 'compensated', message: `undone in ${Date.now() - started} ms`, durationMs: Date.now() - started });
      run.status.set(step.id, 'compensated');
    } catch (err) {
      const error = errorText(err);
      run.journal.write(step.id, 'note', { type: 'compensation-failed', message: error, error, degraded: `compensation of ${step.id} failed: ${error}`, key: `compensation:${step.id}` });
      run.progress({ type: 'message', text: `      compensation of ${step.id} FAILED: ${error}` });
    }
  }
}
