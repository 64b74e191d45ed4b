import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Inventory } from '../topology/index.js';

/**
 * The runbook contract. A runbook resolves its targets once into a plan
 * (plain JSON, stored in the journal at the start of the run), and builds its
 * ordered steps from that plan. Resume rebuilds the same steps from the
 * stored plan, never by resolving again (a rebooted host's uptime changed).
 */
export interface Runbook<P = any, Plan = any> {
  /** kebab-case, e.g. "reboot-stale". */
  name: string;
  /** One line: what it does. */
  summary: string;
  /** Longer Markdown text for `runbook docs` (optional). */
  description?: string;
  /** Validated parameters (from CLI flags); errors name the flag. */
  params: z.ZodType<P>;
  /** Looks at the world (read-only) and decides what to do. Called once per run. */
  resolve(ctx: ResolveContext<P>): Promise<Plan>;
  /** The ordered steps for this plan. Must be deterministic for a given plan and params. */
  steps(plan: Plan, params: P): Step[];
  /** Lock names the whole run holds (e.g. "runbook:reboot-stale"); steps may add their own. */
  locks?(plan: Plan, params: P): string[];
  /**
   * The lines `runbook plan` leads with, for a person (waves, what they
   * leave, refusals): with one, the full step list is shown on request only.
   */
  overview?(plan: Plan, params: P, inventory: Inventory): string[];
  /** An example plan, so that `runbook docs` can list the steps without resolving anything (optional). */
  examplePlan?: Plan;
  /** The raw parameters (as flags would give them) used with `examplePlan`; default: `{}` through `params`. */
  exampleParams?: Record<string, unknown>;
  /**
   * Parameters that, added to `exampleParams`, make a plan a preview that reads no host (e.g. uptimes
   * assumed): the sample plan command takes them, and `runbook show` prints that real plan on the lab's layout.
   */
  previewParams?: Record<string, unknown>;
}

/**
 * A runbook as the registry knows it: the module plus the path of its source
 * file, whose sha256 is the run's `runbookVersion` (resume refuses a changed
 * runbook). A runbook module exports `sourceFile = sourceFileOf(import.meta.url)`.
 */
export interface RegisteredRunbook {
  runbook: Runbook;
  sourceFile: string;
}

/** Where run-level messages go (a Slack incoming webhook). Must never throw into the run. */
export interface Notifier {
  send(text: string): Promise<void>;
}

/** What `resolve` gets: the inventory and the environment's services (drivers), read-only use. */
export interface ResolveContext<P> {
  params: P;
  inventory: Inventory;
  env: RunEnvironment;
  log: Logger;
  /** True for `runbook plan`: nothing will act, so a refusal that is about acting now (a window) may be a note instead. */
  dryRun?: boolean;
}

/**
 * The services steps use, injected by the CLI (or a test): drivers for the
 * real systems of this inventory. Kept as an open record so the engine does
 * not depend on any driver.
 */
export type RunEnvironment = Record<string, unknown>;

/** What every step's functions get while the run is going. */
export interface StepContext<P = any, Plan = any> {
  runId: string;
  params: P;
  plan: Plan;
  inventory: Inventory;
  env: RunEnvironment;
  log: Logger;
  /**
   * Writes a `note` event for this step (kept in the journal and the report).
   * Conventions the engine reads: `{ degraded: "db-2 is drained", key: "db-2" }`
   * marks the run degraded (reported in the summary and notified at the end)
   * until a later note `{ degraded: null, key: "db-2" }` clears that key.
   * `host` serves as the key when `key` is absent, else the text itself; a
   * clear whose key is not found removes the marks whose text starts with it
   * ("db-2 is drained" is cleared by `{ degraded: null, host: "db-2" }`).
   * The data key `type` is reserved for the engine.
   */
  note(message: string, data?: Record<string, unknown>): Promise<void>;
  /**
   * This step's notes from its earlier attempts in this run (a resume reads
   * them from the journal), oldest first: how a step that records its phases
   * with `note` finds where a crashed attempt stopped.
   */
  earlierNotes?: ReadonlyArray<Record<string, unknown>>;
  /** Results of steps that already succeeded in this run (also after resume), by step id. */
  results: Record<string, unknown>;
  /** This step's state before this attempt: "failed" when an earlier attempt of this run failed (a resume). */
  previously?: string;
  /** Aborted when the run is being stopped (SIGINT/SIGTERM). */
  signal: AbortSignal;
  /**
   * Runs another runbook as a nested run (its parent is this run): it inherits
   * this run's locks, environment, notifier and approvals. Always set by the engine.
   */
  runChild?(child: RegisteredRunbook, params: Record<string, unknown>): Promise<RunOutcome>;
}

/** How a run (or one invocation of it: run, resume) ended. */
export type RunEndState = 'succeeded' | 'failed' | 'stopped' | 'waiting-approval';

export interface RunOutcome {
  runId: string;
  state: RunEndState;
  /** What is still degraded at the end (e.g. "db-2 is drained"). */
  degraded: string[];
  /** The failing step and its error, when state is failed. */
  failedStep?: { id: string; error: string };
}

interface StepBase {
  /** Unique within the run, stable across resume, e.g. "wave-1/db-2/drain". */
  id: string;
  /** What a person reads in progress output and docs. */
  title: string;
  /** Locks held while this step runs (inherited by nested runs), e.g. ["host:db-2"]. */
  locks?: string[];
  /**
   * Steps of one group (e.g. "wave-1/db-2") form a unit for compensation: when
   * a step fails, the completed actions of its group that declare `compensate`
   * are undone, last first, and resume starts again at the first of them.
   */
  group?: string;
  /**
   * Consecutive steps of one `block` (e.g. "wave-1") run as lanes (e.g. one
   * per host) side by side, at most `concurrency` lanes at a time; a lane's
   * own steps run in order. When a lane fails, the others finish the step
   * they are in and start no other, and the run fails.
   */
  lane?: { block: string; lane: string; concurrency: number };
}

/** Read-only look at the world; its result is journaled. */
export interface ProbeStep extends StepBase {
  kind: 'probe';
  run(ctx: StepContext): Promise<unknown>;
}

/** Changes the world. An `intent` is journaled (and flushed) before it acts. */
export interface ActionStep extends StepBase {
  kind: 'action';
  /**
   * idempotent: safe to run again after a crash between intent and outcome.
   * at-most-once: after such a crash, resume stops and asks the operator.
   */
  semantics: 'idempotent' | 'at-most-once';
  /** For `plan` (dry run): the target, the inputs, and what it takes away (blast radius). */
  describe(ctx: Omit<StepContext, 'signal'>): { target: string; inputs?: Record<string, unknown>; consequence?: string };
  run(ctx: StepContext): Promise<unknown>;
  /** Undoes the action when a later step of the same group fails (optional). */
  compensate?(ctx: StepContext): Promise<void>;
}

/** Polls a condition until it holds `consecutive` times in a row, or times out. */
export interface WaitForStep extends StepBase {
  kind: 'wait-for';
  /** What it waits for, in words: "db-2 replication caught up". */
  what: string;
  intervalMs: number;
  timeoutMs: number;
  /** Samples in a row that must hold (hysteresis); default 1. */
  consecutive?: number;
  check(ctx: StepContext): Promise<{ ok: boolean; detail: string }>;
}

/** A manual gate: an interactive prompt, or --yes without a terminal. */
export interface ApprovalStep extends StepBase {
  kind: 'approval';
  prompt(ctx: StepContext): string;
}

/** Sends a message to the run's notifier (Slack webhook). */
export interface NotifyStep extends StepBase {
  kind: 'notify';
  message(ctx: StepContext): string;
}

export type Step = ProbeStep | ActionStep | WaitForStep | ApprovalStep | NotifyStep;

/** One line of .gameday/runs/<run-id>/journal.jsonl (the journal format: README, "Runbooks"). */
export interface JournalEvent {
  time: string;
  runId: string;
  /** A step id, or "run" for run-level events. */
  stepId: string;
  event: 'intent' | 'succeeded' | 'failed' | 'skipped' | 'approval' | 'note';
  data?: Record<string, unknown>;
}
