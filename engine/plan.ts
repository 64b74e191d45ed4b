import type { Logger } from 'pino';
import { log as defaultLog } from '../core/log.js';
import type { Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { RegisteredRunbook, RunEnvironment, StepContext } from './types.js';
import { formatDuration } from '../core/duration.js';
import { jsonSafe } from './journal.js';
import { paramSpecs, parseParams } from './params.js';
import { buildSteps } from './steps.js';

export interface PlannedStep {
  index: number;
  id: string;
  kind: string;
  title: string;
  group?: string;
  locks?: string[];
  semantics?: string;
  target?: string;
  inputs?: Record<string, unknown>;
  consequence?: string;
  compensate?: boolean;
  what?: string;
  intervalMs?: number;
  timeoutMs?: number;
  consecutive?: number;
  prompt?: string;
  message?: string;
}

export interface PlanView {
  runbook: string;
  /** The parameters as flags, in the units they are written in (given or default). */
  given: string[];
  /** The runbook's summary for a person, when it has one. */
  overview?: string[];
  params: unknown;
  plan: unknown;
  locks: string[];
  steps: PlannedStep[];
}

const DRY_RUN_ID = '(plan)';

/**
 * The dry run: validates the parameters, resolves the plan (read-only) and
 * describes every step. Writes nothing: no journal, no lock.
 */
export async function planRun(entry: RegisteredRunbook, rawParams: Record<string, unknown>, opts: { inventory: Inventory; env: RunEnvironment; log?: Logger }): Promise<PlanView> {
  const { runbook } = entry;
  const log = (opts.log ?? defaultLog).child({ runbook: runbook.name, dryRun: true });
  const params = parseParams(runbook, rawParams);
  const plan = await runbook.resolve({ params, inventory: opts.inventory, env: opts.env, log, dryRun: true });
  const steps = buildSteps(runbook, plan, params);
  const ctx: StepContext = {
    runId: DRY_RUN_ID,
    params,
    plan,
    inventory: opts.inventory,
    env: opts.env,
    log,
    results: {},
    signal: AbortSignal.abort('dry run'),
    note: async () => {},
    runChild: async () => {
      throw new GamedayError('DRY_RUN', 'a dry run starts no nested run', runbook.name);
    },
  };
  const text = (fn: () => string) => {
    try {
      return fn();
    } catch (err) {
      return `(known once earlier steps ran: ${(err as Error).message})`;
    }
  };
  const overview = runbook.overview ? text(() => runbook.overview!(plan, params, opts.inventory).join('\n')).split('\n') : undefined;
  return {
    runbook: runbook.name,
    given: givenFlags(runbook, rawParams),
    ...(overview ? { overview } : {}),
    params: jsonSafe(params),
    plan: jsonSafe(plan),
    locks: runbook.locks?.(plan, params) ?? [],
    steps: steps.map((s, index) => {
      const base: PlannedStep = { index, id: s.id, kind: s.kind, title: s.title, ...(s.group ? { group: s.group } : {}), ...(s.locks?.length ? { locks: s.locks } : {}) };
      switch (s.kind) {
        case 'action': {
          let d: ReturnType<typeof s.describe>;
          try {
            d = s.describe(ctx);
          } catch (err) {
            d = { target: `(cannot describe: ${(err as Error).message})` };
          }
          return { ...base, semantics: s.semantics, ...d, ...(d.inputs ? { inputs: jsonSafe(d.inputs) as Record<string, unknown> } : {}), compensate: Boolean(s.compensate) };
        }
        case 'wait-for':
          return { ...base, what: s.what, intervalMs: s.intervalMs, timeoutMs: s.timeoutMs, consecutive: s.consecutive ?? 1 };
        case 'approval':
          return { ...base, prompt: text(() => s.prompt(ctx)) };
        case 'notify':
          return { ...base, message: text(() => s.message(ctx)) };
        default:
          return base;
      }
    }),
  };
}

/** The plan as text: one block per step, actions with target, inputs and consequence. */
/** "--max-uptime 180d", "--ramp 25,50,100": each parameter as it was given, or its default as written. */
function givenFlags(runbook: RegisteredRunbook['runbook'], raw: Record<string, unknown>): string[] {
  return paramSpecs(runbook).flatMap((spec) => {
    const value = raw[spec.key] ?? spec.default;
    if (value === undefined || value === '' || value === false) return [];
    if (value === true) return [spec.flag];
    return [`${spec.flag} ${Array.isArray(value) ? value.join(',') : String(value)}`];
  });
}

/**
 * The dry run for a person. A runbook with an overview leads with it and
 * lists its steps only with `steps` (--steps); one without lists them.
 */
export function renderPlan(view: PlanView, opts: { steps?: boolean } = {}): string {
  const lines = [`plan for ${view.runbook} (dry run: nothing was changed)`, `parameters: ${view.given.join('  ') || '(none)'}`];
  if (view.locks.length) lines.push(`locks: ${view.locks.join(', ')}`);
  if (view.overview) {
    lines.push('', ...view.overview);
    if (!opts.steps) {
      lines.push('', `${view.steps.length} steps in all: add --all-steps to list them, --json for machines`);
      return lines.join('\n');
    }
    lines.push('');
  }
  lines.push(`${view.steps.length} steps:`);
  const width = String(view.steps.length).length;
  for (const s of view.steps) {
    const n = String(s.index + 1).padStart(width);
    lines.push(`${n}. [${s.kind}${s.semantics ? `, ${s.semantics}` : ''}] ${s.title}  (${s.id})`);
    const pad = ' '.repeat(width + 2);
    if (s.kind === 'action') {
      lines.push(`${pad}target: ${s.target}`);
      if (s.inputs && Object.keys(s.inputs).length) lines.push(`${pad}inputs: ${JSON.stringify(s.inputs)}`);
      if (s.consequence) lines.push(`${pad}consequence: ${s.consequence}`);
      if (s.compensate) lines.push(`${pad}undone if a later step of ${s.group ?? 'its group'} fails`);
    }
    if (s.kind === 'wait-for') {
      lines.push(`${pad}waits for ${s.what}: every ${formatDuration(s.intervalMs!)}, ${s.consecutive} in a row, up to ${formatDuration(s.timeoutMs!)}`);
    }
    if (s.prompt) lines.push(`${pad}asks: ${s.prompt}`);
    if (s.message) lines.push(`${pad}says: ${s.message}`);
    if (s.locks) lines.push(`${pad}locks: ${s.locks.join(', ')}`);
  }
  return lines.join('\n');
}
