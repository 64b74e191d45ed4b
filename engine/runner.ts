import { rmSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { log as defaultLog } from '../core/log.js';
import { GamedayError } from '../core/errors.js';
import type { Inventory } from '../topology/index.js';
import type { JournalEvent, Notifier, RegisteredRunbook, RunEnvironment, RunOutcome, Step } from './types.js';
import type { Approver } from './approval.js';
import { executeSteps, type ActiveRun, type ExecutionEnd } from './execute.js';
import { formatDuration } from '../core/duration.js';
import { JournalWriter, readJournal } from './journal.js';
import { DEFAULT_LOCK_TTL_MS, listLocks, LockSet, staleReason } from './locks.js';
import { notices, silentNotifier } from './notifications.js';
import { parseParams } from './params.js';
import { silentProgress, type ProgressSink } from './progress.js';
import { newRunId } from './runId.js';
import { runStateFromJournal, type RunState, type StepStatus } from './runState.js';
import { buildSteps, outline } from './steps.js';
import { runbookVersion } from './version.js';
import { assertWritableStateDir, runDir } from './stateDir.js';

export interface RunOptions {
  /** The state folder (resolveStateDir()): runs/ and locks/ live there. */
  stateDir: string;
  inventory: Inventory;
  /** The drivers the steps use, from the caller. */
  env: RunEnvironment;
  log?: Logger;
  notifier?: Notifier;
  /** Asks a person (terminalApprover()); without it, only `yes` approves. */
  approver?: Approver;
  /** --yes: approval steps are approved without asking. Never assumed. */
  yes?: boolean;
  /** How long to wait for a held lock; default 0: fail at once. */
  lockWaitMs?: number;
  lockTtlMs?: number;
  lockPollMs?: number;
  /** Makes this a nested run: it inherits the parent's locks. */
  parentRunId?: string;
  progress?: ProgressSink;
  /** Abort to stop after the current step (SIGINT/SIGTERM); the run stays resumable. */
  signal?: AbortSignal;
  /** Recorded in the start record (e.g. the inventory file), for resume. */
  environment?: Record<string, unknown>;
}

export interface ResumeOptions extends RunOptions {
  /** Resume although the runbook's source changed since the run began. */
  allowChanged?: boolean;
  /** At-most-once actions the operator says took effect: recorded as skipped. */
  assumeDone?: string[];
  /** At-most-once actions the operator wants run again. */
  retry?: string[];
}

export interface RunResult extends RunOutcome {
  /** The run as its journal tells it, after this invocation. */
  run: RunState;
  stopReason?: string;
}

/** The run ids whose locks a nested run inherits: its parent, the parent's parent, ... */
export function ancestry(stateDir: string, parentRunId: string | undefined): string[] {
  const chain: string[] = [];
  let current = parentRunId;
  while (current && !chain.includes(current) && chain.length < 32) {
    chain.push(current);
    try {
      const start = readJournal(stateDir, current).find((e) => e.stepId === 'run' && e.data?.type === 'started');
      current = typeof start?.data?.parentRunId === 'string' ? start.data.parentRunId : undefined;
    } catch {
      current = undefined; // the parent's journal lives elsewhere: inherit from the parent alone
    }
  }
  return chain;
}

function runLockNames(entry: RegisteredRunbook, runId: string, plan: unknown, params: unknown): string[] {
  return [`run:${runId}`, ...(entry.runbook.locks?.(plan, params) ?? [])];
}

/** Starts a new run: validates the parameters, resolves the plan, takes the locks, journals and executes. */
export async function startRun(entry: RegisteredRunbook, rawParams: Record<string, unknown>, opts: RunOptions): Promise<RunResult> {
  return toldOfRefusal(opts, entry.runbook.name, () => startRunNow(entry, rawParams, opts));
}

/**
 * A refusal (bad input, a lock held, outside the window, an unsure action, a
 * changed runbook) is sent to the notifier before it ends the process: an
 * unattended job that refuses every night must not do so in silence.
 */
async function toldOfRefusal<T>(opts: RunOptions, what: string, act: () => Promise<T>): Promise<T> {
  try {
    return await act();
  } catch (err) {
    if (err instanceof GamedayError && opts.notifier) await opts.notifier.send(notices.refused(what, err.describe())).catch(() => undefined);
    throw err;
  }
}

async function startRunNow(entry: RegisteredRunbook, rawParams: Record<string, unknown>, opts: RunOptions): Promise<RunResult> {
  const { runbook } = entry;
  const baseLog = opts.log ?? defaultLog;
  const params = parseParams(runbook, rawParams);
  assertWritableStateDir(opts.stateDir);
  const version = runbookVersion(entry.sourceFile);
  const runId = newRunId();
  const log = baseLog.child({ runId, runbook: runbook.name });
  const locks = lockSet(opts, runId, log);
  const resolveCtx = { params, inventory: opts.inventory, env: opts.env, log };

  let plan = await runbook.resolve(resolveCtx);
  let steps: Step[];
  try {
    steps = buildSteps(runbook, plan, params);
    const waitStarted = Date.now();
    await locks.acquire(runLockNames(entry, runId, plan, params));
    if (Date.now() - waitStarted > (opts.lockPollMs ?? 250)) {
      // We waited for another run: the world moved meanwhile, so look again.
      plan = await runbook.resolve(resolveCtx);
      steps = buildSteps(runbook, plan, params);
      await locks.acquire(runLockNames(entry, runId, plan, params));
    }
  } catch (err) {
    locks.releaseAll();
    throw err;
  }

  let journal: JournalWriter | undefined;
  try {
    journal = JournalWriter.create(opts.stateDir, runId);
    journal.write('run', 'note', {
      type: 'started',
      runbook: runbook.name,
      params: rawParams,
      resolvedParams: params,
      plan,
      runbookVersion: version,
      ...(opts.parentRunId ? { parentRunId: opts.parentRunId } : {}),
      pid: process.pid,
      hostname: hostname(),
      steps: outline(steps),
      locks: locks.names,
      ...(opts.environment ? { environment: opts.environment } : {}),
    });
  } catch (err) {
    // Nothing has acted yet: free the locks and leave no run behind that could not be resumed.
    locks.releaseAll();
    journal?.close();
    rmSync(runDir(opts.stateDir, runId), { recursive: true, force: true });
    if (err instanceof GamedayError && err.code === 'JOURNAL_WRITE_FAILED') {
      throw new GamedayError(err.code, 'could not write the start of the run\'s journal (is the disk full?); nothing was done', runDir(opts.stateDir, runId), 'free space or fix the state folder, then run it again');
    }
    throw err;
  }
  return invoke(entry, { runId, params, plan, steps, journal, locks, log, status: new Map(), results: {}, notes: new Map(), resumed: false }, opts);
}

/**
 * A run that looks alive but was last driven from another machine (a
 * scheduled task on shared storage): it is gone when none of its locks is
 * still renewed and its journal has been quiet for a lock TTL. A live run
 * renews its locks every third of their TTL, whatever step it is in.
 */
function diedElsewhere(stateDir: string, prior: RunState, now = Date.now()): boolean {
  if (prior.hostname === hostname()) return false;
  const live = listLocks(stateDir).filter((l) => l.holder === prior.runId && !staleReason(l, now));
  return live.length === 0 && now - Date.parse(prior.lastEventAt) > DEFAULT_LOCK_TTL_MS;
}

/**
 * Continues a run at the first step that is not done, from the plan stored in
 * its journal. Refuses a changed runbook (unless allowChanged) and an
 * at-most-once action whose outcome is unknown (unless the operator decided
 * with assumeDone or retry).
 */
export async function resumeRun(runId: string, lookup: (name: string) => RegisteredRunbook | undefined, opts: ResumeOptions): Promise<RunResult> {
  return toldOfRefusal(opts, `resume of run ${runId}`, () => resumeRunNow(runId, lookup, opts));
}

async function resumeRunNow(runId: string, lookup: (name: string) => RegisteredRunbook | undefined, opts: ResumeOptions): Promise<RunResult> {
  assertWritableStateDir(opts.stateDir);
  const prior = runStateFromJournal(runId, readJournal(opts.stateDir, runId));
  if (prior.state === 'succeeded') {
    throw new GamedayError('RUN_FINISHED', 'this run already succeeded: nothing to resume', runId, `start a new one with "gameday runbook run ${prior.start.runbook}"`);
  }
  if (prior.state === 'running' && !diedElsewhere(opts.stateDir, prior)) {
    throw new GamedayError('RUN_RUNNING', `still running (pid ${prior.pid} on ${prior.hostname})`, runId, 'stop it with Ctrl-C or SIGTERM (it stops after the current step), then resume; a run on another machine counts as gone once its locks expire unrenewed');
  }
  const entry = lookup(prior.start.runbook);
  if (!entry) throw new GamedayError('UNKNOWN_RUNBOOK', `the run's runbook "${prior.start.runbook}" is not in the registry`, runId, '"gameday runbook list" shows the runbooks');
  const { runbook } = entry;
  const version = runbookVersion(entry.sourceFile);
  const changed = version !== prior.start.runbookVersion;
  if (changed && !opts.allowChanged) {
    throw new GamedayError(
      'RUNBOOK_CHANGED',
      `runbook ${runbook.name} changed since run ${runId} began (${prior.start.runbookVersion.slice(0, 19)} then, ${version.slice(0, 19)} now)`,
      entry.sourceFile,
      'resume rebuilds the steps from the stored plan with the current code: review the change, then resume with --allow-changed',
    );
  }
  let params: unknown;
  try {
    params = parseParams(runbook, prior.start.params);
  } catch (err) {
    if (err instanceof GamedayError && changed) throw new GamedayError(err.code, `${err.message} (the stored parameters no longer fit the changed runbook)`, err.input, err.hint);
    throw err;
  }
  const plan = prior.start.plan;
  const steps = buildSteps(runbook, plan, params);
  const assumeDone = new Set(opts.assumeDone ?? []);
  const retry = new Set(opts.retry ?? []);
  checkDecisions(steps, assumeDone, retry);

  // Checked now, so that a refusal comes before any wait for the lock, and again once the lock is held (below).
  checkUnsure(runId, prior, steps, assumeDone, retry);

  const log = (opts.log ?? defaultLog).child({ runId, runbook: runbook.name });
  const locks = lockSet(opts, runId, log, prior.start.parentRunId);
  await locks.acquire(runLockNames(entry, runId, plan, params));
  // Read the journal again under the lock: another resumer may have run (or finished) the run while this one waited for it.
  let now: RunState;
  let events: JournalEvent[];
  try {
    events = readJournal(opts.stateDir, runId);
    now = runStateFromJournal(runId, events);
    if (now.state === 'succeeded') {
      throw new GamedayError('RUN_FINISHED', 'this run succeeded while this resume waited for its lock: nothing to resume', runId, `start a new one with "gameday runbook run ${prior.start.runbook}"`);
    }
    checkUnsure(runId, now, steps, assumeDone, retry);
  } catch (err) {
    locks.releaseAll();
    throw err;
  }
  const journal = JournalWriter.append(opts.stateDir, runId);
  journal.write('run', 'note', {
    type: 'resumed',
    pid: process.pid,
    hostname: hostname(),
    runbookVersion: version,
    ...(changed ? { changed: true, previousVersion: prior.start.runbookVersion } : {}),
    ...(assumeDone.size ? { assumeDone: [...assumeDone] } : {}),
    ...(retry.size ? { retry: [...retry] } : {}),
    locks: locks.names,
  });
  const status = new Map<string, StepStatus>(now.steps.map((s) => [s.id, s.status]));
  const results: Record<string, unknown> = {};
  for (const s of now.steps) if (s.status === 'succeeded') results[s.id] = s.result;
  return invoke(entry, { runId, params, plan, steps, journal, locks, log, status, results, notes: stepNotesOf(events), resumed: true, assumeDone, retry }, { ...opts, parentRunId: prior.start.parentRunId });
}

/** The steps' own notes (ctx.note) in the journal, by step: what a step recorded of its phases in earlier attempts. */
function stepNotesOf(events: JournalEvent[]): Map<string, Array<Record<string, unknown>>> {
  const notes = new Map<string, Array<Record<string, unknown>>>();
  for (const e of events) {
    if (e.stepId === 'run' || e.event !== 'note' || e.data?.type !== 'note') continue;
    notes.set(e.stepId, [...(notes.get(e.stepId) ?? []), e.data]);
  }
  return notes;
}

/** Refuses (UNSURE_ACTION) when an at-most-once action of the run has no known outcome and the operator did not decide. */
function checkUnsure(runId: string, prior: RunState, steps: Step[], assumeDone: Set<string>, retry: Set<string>): void {
  const status = new Map<string, StepStatus>(prior.steps.map((s) => [s.id, s.status]));
  const unsure = steps.filter(
    (s) => s.kind === 'action' && s.semantics === 'at-most-once' && ['running', 'interrupted', 'failed'].includes(status.get(s.id) ?? '') && !assumeDone.has(s.id) && !retry.has(s.id),
  );
  if (unsure.length > 0) {
    const s = prior.steps.find((x) => x.id === unsure[0].id)!;
    const what = s.status === 'failed' ? `failed (${s.error ?? 'error'}) and may have acted before failing` : 'was started but has no outcome (its process died or was stopped while it acted)';
    const others = unsure.length > 1 ? `; also ${unsure.slice(1).map((x) => x.id).join(', ')}` : '';
    throw new GamedayError(
      'UNSURE_ACTION',
      `at-most-once action "${s.title}" ${what}: running it again could act twice${others}`,
      `run ${runId}, step ${s.id}`,
      `check by hand whether it took effect, then resume with --assume-done ${s.id} (it did: skip it) or --retry ${s.id} (it did not: run it again)`,
    );
  }
}

function checkDecisions(steps: Step[], assumeDone: Set<string>, retry: Set<string>): void {
  const ids = new Set(steps.map((s) => s.id));
  for (const [flag, set] of [['--assume-done', assumeDone], ['--retry', retry]] as const) {
    for (const id of set) {
      if (!ids.has(id)) throw new GamedayError('UNKNOWN_STEP', `no step "${id}" in this run`, flag, '"gameday runbook status <run-id>" lists the steps');
      if (flag === '--assume-done' && retry.has(id)) throw new GamedayError('BAD_FLAG', `step ${id} is named by both --assume-done and --retry`, flag, 'decide one of them');
    }
  }
}

function lockSet(opts: RunOptions, runId: string, log: Logger, parentRunId = opts.parentRunId): LockSet {
  return new LockSet({
    stateDir: opts.stateDir,
    runId,
    ancestors: ancestry(opts.stateDir, parentRunId),
    ttlMs: opts.lockTtlMs ?? DEFAULT_LOCK_TTL_MS,
    waitMs: opts.lockWaitMs ?? 0,
    pollMs: opts.lockPollMs,
    signal: opts.signal,
    log,
  });
}

type Invocation = Pick<ActiveRun, 'runId' | 'params' | 'plan' | 'steps' | 'journal' | 'locks' | 'log' | 'status' | 'results' | 'notes' | 'resumed'> &
  Partial<Pick<ActiveRun, 'assumeDone' | 'retry'>>;

/** A journal write at the end of a run that must not hide the error that ended it. */
function tryWrite(write: () => unknown): void {
  try {
    write();
  } catch {
    // the journal already said why it cannot take more (JOURNAL_WRITE_FAILED surfaces from the step)
  }
}

/** Executes the steps, writes the end record, notifies, releases the locks. */
async function invoke(entry: RegisteredRunbook, inv: Invocation, opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const notifier = opts.notifier ?? silentNotifier;
  const progress = opts.progress ?? silentProgress;
  const controller = new AbortController();
  const onAbort = () => controller.abort(opts.signal?.reason ?? 'stop requested');
  if (opts.signal?.aborted) onAbort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  inv.locks.startRenewal((name, by, why) => {
    const message = why ? `lock ${name} ${why}: stopping before the next step` : `lock ${name} was taken by ${by?.holder ?? 'nobody (removed)'}`;
    tryWrite(() => inv.journal.write('run', 'note', { type: 'lock-lost', message, lock: name }, { unguarded: true }));
    controller.abort(why ? `lock ${name} could not be renewed` : `lock ${name} lost`);
  });
  // A run that lost a lock appends nothing more as if it held it (a step's intent, a success).
  inv.journal.guard = () => {
    const lost = inv.locks.lostLock();
    if (lost) throw new GamedayError('LOCK_LOST', `lock ${lost} is no longer this run's: nothing more is recorded or done`, `run ${inv.runId}`, `"gameday runbook status ${inv.runId}" shows where it stopped; resume it once the other holder is done`);
  };
  const run: ActiveRun = {
    entry,
    ...inv,
    inventory: opts.inventory,
    env: opts.env,
    notifier,
    progress,
    approver: opts.approver,
    yes: opts.yes ?? false,
    controller,
    assumeDone: inv.assumeDone ?? new Set(),
    retry: inv.retry ?? new Set(),
    runChild: (child, params) => startRun(child, params, { ...opts, parentRunId: inv.runId, signal: controller.signal, environment: opts.environment }),
  };
  const name = entry.runbook.name;
  let end: ExecutionEnd = { state: 'failed' };
  try {
    progress({ type: 'run', runId: inv.runId, runbook: name, total: inv.steps.length, resumed: inv.resumed });
    await notifier.send(notices.started(inv.runId, name, inv.steps.length, inv.resumed));
    end = await executeSteps(run);
  } catch (err) {
    // An engine fault (a disk error, a bug): record it if the journal still takes writes, then let it surface.
    tryWrite(() => inv.journal.write('run', 'note', { type: 'engine-error', message: (err as Error).message }));
    throw err;
  } finally {
    let state: ReturnType<typeof runStateFromJournal> | undefined;
    try {
      state = runStateFromJournal(inv.runId, readJournal(opts.stateDir, inv.runId));
      const s = state;
      tryWrite(() =>
        inv.journal.write('run', 'note', {
          type: 'finished',
          state: end.state,
          durationMs: Date.now() - started,
          leftDegraded: [...s.degraded.values()],
          ...(end.stopReason ? { reason: end.stopReason } : {}),
          ...(end.state === 'failed' && s.failedStep ? { failedStep: s.failedStep } : {}),
        }),
      );
    } finally {
      // Whatever happened above (a full disk, an unreadable journal), the locks go and the journal closes.
      inv.locks.releaseAll();
      inv.journal.close();
      opts.signal?.removeEventListener('abort', onAbort);
    }
    const total = formatDuration(Date.now() - started);
    if (end.state !== 'waiting-approval') {
      const detail = end.state === 'failed' && state.failedStep ? `step ${state.failedStep.id}: ${state.failedStep.error}` : end.stopReason;
      await notifier.send(notices.finished(inv.runId, name, end.state, total, detail));
    }
    const degraded = [...state.degraded.values()];
    if (degraded.length > 0) await notifier.send(notices.degraded(inv.runId, name, degraded));
  }
  const run2 = runStateFromJournal(inv.runId, readJournal(opts.stateDir, inv.runId));
  return {
    runId: inv.runId,
    state: end.state,
    degraded: [...run2.degraded.values()],
    ...(run2.failedStep && end.state === 'failed' ? { failedStep: run2.failedStep } : {}),
    ...(end.stopReason ? { stopReason: end.stopReason } : {}),
    run: run2,
  };
}
