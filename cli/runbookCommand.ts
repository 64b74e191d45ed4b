import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { addOptions, collect, DRIVER_OPTIONS, withOptions, type OptionSpec, type SharedOption } from './options.js';
import { GamedayError } from '../core/errors.js';
import { parseWebhookUrl, slackNotifier } from '../drivers/notify/slack.js';
import { checkLockTtl } from '../engine/locks.js';
import { checkParentRun } from '../engine/parentRun.js';
import { findRunbook, requireRunbook, runbooks } from '../runbooks/registry.js';
import { createEnvironment } from './wiring/environment.js';
import {
  lineProgress,
  listLocks,
  listRuns,
  loadRun,
  paramSpecs,
  parseDuration,
  planRun,
  rawParamsFromFlags,
  renderDocs,
  renderPlan,
  renderRun,
  renderRunbookDocs,
  sampleCommands,
  sampleParams,
  renderRunList,
  resolveStateDir,
  resumeRun,
  runJson,
  startRun,
  stopOnSignals,
  terminalApprover,
  type ParamSpec,
  type RegisteredRunbook,
  type RunOptions,
  type RunResult,
} from '../engine/index.js';
import { action } from './run.js';
import type { DriverFlags } from './wiring/powerWiring.js';
import { summaryOf } from './summaries.js';

/** Exit codes of run and resume. */
const EXIT = { succeeded: 0, failed: 1, 'waiting-approval': 3, stopped: 130 } as const;

interface EnvFlags extends DriverFlags {
  inventory?: string;
  labDir?: string;
  json?: boolean;
}

interface RunFlags extends EnvFlags {
  stateDir?: string;
  yes?: boolean;
  waitLock?: string;
  lockTtl?: string;
  slackWebhook?: string;
  resumeUnfinished?: boolean;
}

interface ResumeFlags extends RunFlags {
  allowChanged?: boolean;
  assumeDone?: string[];
  retry?: string[];
}

const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

/** Where a runbook acts and how it prints: "runbook plan", "run" and "resume". */
const ENV_OPTIONS = ['inventory', 'labDir', 'json', ...DRIVER_OPTIONS] as const satisfies readonly SharedOption[];
/** How a run behaves: "runbook run" and "resume". */
const RUN_OPTIONS = ['stateDir', 'yes', 'waitLock', 'lockTtl', 'slackWebhook'] as const satisfies readonly SharedOption[];
const PLAN_ONLY = ['allSteps'] as const satisfies readonly SharedOption[];
const START_ONLY = ['resumeUnfinished'] as const satisfies readonly SharedOption[];

/** The options of "runbook resume" alone. */
const RESUME_OPTIONS = {
  allowChanged: { flags: '--allow-changed', description: 'resume although the runbook changed since the run began' },
  assumeDone: { flags: '--assume-done <step-id>', description: 'an at-most-once step with no known outcome took effect: record it as skipped (repeatable)', repeatable: true },
  retry: { flags: '--retry <step-id>', description: 'an at-most-once step with no known outcome did not take effect: run it again (repeatable)', repeatable: true },
} as const satisfies Record<string, OptionSpec>;

/**
 * The flags the runbook commands define themselves, which no runbook
 * parameter may take (help is commander's own).
 */
export const RESERVED: ReadonlySet<string> = new Set<string>([...ENV_OPTIONS, ...RUN_OPTIONS, ...PLAN_ONLY, ...START_ONLY, ...Object.keys(RESUME_OPTIONS), 'help']);

/** The driver flags given (only those), e.g. { sshJump: 'ops@bastion' }. */
const driverFlagsOf = (flags: DriverFlags): DriverFlags => Object.fromEntries(DRIVER_OPTIONS.filter((k) => typeof flags[k] === 'string' || flags[k] === true).map((k) => [k, flags[k]]));

/** One commander option per runbook parameter: key maxUptime <-> --max-uptime, description from .describe(). */
function paramOption(spec: ParamSpec): Option {
  const notes = [spec.description ?? ''];
  if (spec.choices) notes.push(`one of ${spec.choices.join(', ')}`);
  if (spec.default !== undefined) notes.push(`default ${typeof spec.default === 'string' ? spec.default : JSON.stringify(spec.default)}`);
  else if (spec.required) notes.push('required');
  if (spec.kind === 'array') notes.push('repeatable');
  const text = notes.filter(Boolean).join('; ');
  if (spec.kind === 'boolean') return new Option(spec.default === true ? `--no-${spec.flag.slice(2)}` : spec.flag, text);
  const opt = new Option(`${spec.flag} <value>`, text);
  return spec.kind === 'array' ? opt.argParser(collect) : opt;
}

function addParamOptions(cmd: Command, entry: RegisteredRunbook): ParamSpec[] {
  const specs = paramSpecs(entry.runbook);
  for (const spec of specs) {
    if (RESERVED.has(spec.key)) throw new Error(`runbook ${entry.runbook.name}: parameter "${spec.key}" clashes with a gameday runbook option`);
    cmd.addOption(paramOption(spec));
  }
  return specs;
}

function durationFlag(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new GamedayError('BAD_FLAG', `not a duration: "${value}"`, flag, 'e.g. 90s, 10m, 2h');
  return ms;
}

function webhookFrom(flags: RunFlags): string | undefined {
  if (flags.slackWebhook) return parseWebhookUrl(flags.slackWebhook, '--slack-webhook');
  const env = process.env.GAMEDAY_SLACK_WEBHOOK;
  return env ? parseWebhookUrl(env, '$GAMEDAY_SLACK_WEBHOOK') : undefined;
}

function parentRunFromEnv(stateDir: string): string | undefined {
  const parent = process.env.GAMEDAY_PARENT_RUN;
  return parent ? checkParentRun(stateDir, parent) : undefined;
}

/**
 * Runs (or resumes) with the environment from the registry's factory, the
 * Slack notifier, a terminal approver and line progress on stderr. The first
 * SIGINT/SIGTERM stops after the current step; a second one exits at once.
 */
async function withEngine(flags: RunFlags, go: (opts: RunOptions) => Promise<RunResult>): Promise<number> {
  const stateDir = resolveStateDir(flags.stateDir);
  const lockWaitMs = durationFlag('--wait-lock', flags.waitLock);
  const lockTtl = durationFlag('--lock-ttl', flags.lockTtl);
  const lockTtlMs = lockTtl === undefined ? undefined : checkLockTtl(lockTtl);
  const webhook = webhookFrom(flags);
  const parentRunId = parentRunFromEnv(stateDir);
  // '' stays '' so that loadInventory refuses it (an unset variable), not the lab's inventory.
  const inventoryFile = flags.inventory === undefined || flags.inventory === '' ? flags.inventory : resolve(flags.inventory);
  const drivers = driverFlagsOf(flags);
  const environ = await createEnvironment({ inventoryFile, labDir: flags.labDir, drivers, stateDir });
  const stop = stopOnSignals({ exitCode: EXIT.stopped });
  let result: RunResult;
  try {
    result = await go({
      stateDir,
      inventory: environ.inventory,
      env: environ.env,
      notifier: webhook ? slackNotifier({ webhookUrl: webhook }) : undefined,
      approver: terminalApprover(),
      yes: flags.yes ?? false,
      lockWaitMs,
      lockTtlMs,
      parentRunId,
      progress: lineProgress(),
      signal: stop.signal,
      // Where the run acts, kept in its start record so that a resume acts on the same fleet the same way (no secret here).
      environment: { ...(inventoryFile !== undefined ? { inventoryFile } : {}), ...(flags.labDir ? { labDir: resolve(flags.labDir) } : {}), ...(Object.keys(drivers).length ? { drivers } : {}) },
    });
  } finally {
    stop.dispose();
    await environ.close();
  }
  out(flags.json ? JSON.stringify(runJson(result.run), null, 2) : `\n${renderRun(result.run)}`);
  return EXIT[result.state];
}

/**
 * Makes `cmd` run the runbook `entry`, with its parameters as flags and the
 * run options of "gameday runbook run" (a run like any other: journal, locks,
 * resume with "gameday runbook resume <run-id>").
 */
export function runsRunbook(cmd: Command, entry: RegisteredRunbook): Command {
  const specs = addParamOptions(cmd, entry);
  withOptions(cmd, ...ENV_OPTIONS, ...RUN_OPTIONS);
  cmd.action(
    action(async (...args: unknown[]) => {
      // With a positional argument (e.g. "gameday ramp <host>"), commander passes it first; flags follow.
      const flags = args.find((a) => typeof a === 'object' && a !== null && !Array.isArray(a) && !(a instanceof Command)) as RunFlags & Record<string, unknown>;
      const positional = cmd.registeredArguments[0]?.name();
      if (positional && typeof args[0] === 'string') flags[positional] = args[0];
      const raw = rawParamsFromFlags(specs, flags);
      if (flags.resumeUnfinished) {
        const unfinished = unfinishedRun(resolveStateDir(flags.stateDir), entry.runbook.name);
        if (unfinished) {
          out(`resuming ${unfinished.runId} (${unfinished.state}${unfinished.failedStep ? ` at ${unfinished.failedStep.id}` : ''}): the last run of ${entry.runbook.name} did not finish; its plan stands, the parameters given now are not used`);
          // As "runbook resume" does: the run's inventory, lab and driver flags, unless given again now.
          return withEngine(withStoredEnvironment(resolveStateDir(flags.stateDir), unfinished.runId, flags), (opts) => resumeRun(unfinished.runId, findRunbook, opts));
        }
      }
      return withEngine(flags, (opts) => startRun(entry, raw, opts));
    }),
  );
  return withOptions(cmd, ...START_ONLY);
}

/**
 * The last run of a runbook, if it did not finish: a scheduled job (the daily
 * reboot task) carries on where yesterday's stopped. A run still going on
 * elsewhere is found too; its lock then refuses the resume (exit 2), so two
 * jobs never overlap.
 */
function unfinishedRun(stateDir: string, runbook: string) {
  const last = listRuns(stateDir).runs.filter((r) => r.start.runbook === runbook).at(-1);
  return last && last.state !== 'succeeded' && last.state !== 'waiting-approval' ? last : undefined;
}

/** The flags a resume acts with: the run's stored inventory, lab folder and driver flags, each unless given again now. */
function withStoredEnvironment<F extends RunFlags>(stateDir: string, runId: string, flags: F): F {
  const stored = loadRun(stateDir, runId).start.environment ?? {};
  return {
    ...flags,
    inventory: flags.inventory ?? (typeof stored.inventoryFile === 'string' ? stored.inventoryFile : undefined),
    labDir: flags.labDir ?? (typeof stored.labDir === 'string' ? stored.labDir : undefined),
    ...storedDriverFlags(stored.drivers),
    ...driverFlagsOf(flags),
  };
}

/** Driver flags from a start record, only the known ones, only strings. */
function storedDriverFlags(stored: unknown): DriverFlags {
  if (!stored || typeof stored !== 'object') return {};
  return driverFlagsOf(stored as DriverFlags);
}

function unknownRunbook(verb: string) {
  return action(async (name: string | undefined) => {
    if (!name) throw new GamedayError('MISSING_RUNBOOK', 'name a runbook', `gameday runbook ${verb}`, `one of: ${runbooks.map((r) => r.runbook.name).join(', ')}`);
    requireRunbook(name);
  });
}

export function registerRunbook(program: Command): void {
  const rb = program
    .command('runbook')
    .description(summaryOf('runbook'));
  registerList(rb);
  registerShow(rb);
  registerPlanAndRun(rb);
  registerResume(rb);
  registerStatus(rb);
  registerDocs(rb);
}

function registerList(rb: Command): void {
  withOptions(rb.command('list').description('The runbooks this gameday knows'), 'json').action(
    action((flags: { json?: boolean }) => {
      const rows = runbooks.map((r) => ({ name: r.runbook.name, summary: r.runbook.summary }));
      if (flags.json) return out(JSON.stringify(rows, null, 2));
      const width = Math.max(...rows.map((r) => r.name.length));
      out(rows.map((r) => `${r.name.padEnd(width)}  ${r.summary}`).join('\n'));
    }),
  );
}

function registerShow(rb: Command): void {
  rb.command('show')
    .description('One runbook: what it does, its parameters and steps (Markdown)')
    .argument('<name>', 'runbook name')
    .action(
      action(async (name: string) => {
        const entry = requireRunbook(name);
        out(renderRunbookDocs(entry));
        if (entry.runbook.examplePlan === undefined) out(await examplePlanOnTheLab(entry));
      }),
    );
}

/**
 * A runbook without a fixed example plan gets a real one when its example is a preview (its resolve reads
 * no host): its sample plan command on the lab's layout, no lab needed. One whose plan reads the hosts says so:
 * planning it here would send its probes to addresses no lab answers.
 */
async function examplePlanOnTheLab(entry: RegisteredRunbook): Promise<string> {
  const { plan } = sampleCommands(entry.runbook);
  const head = ['### Example plan', '', `\`${plan}\` on the lab's layout (\`gameday lab inventory\`), reaching no host:`, ''];
  if (!entry.runbook.previewParams) return [...head.slice(0, 2), `Its plan reads the hosts (their roles and state): run \`${plan}\` with a lab up (\`gameday lab up\`) or with --inventory.`, ''].join('\n');
  const environ = await createEnvironment({ labDir: resolve('/nonexistent-gameday-example-lab'), stateDir: resolveStateDir(undefined) });
  try {
    const view = await planRun(entry, sampleParams(entry.runbook, 'plan'), { inventory: environ.inventory, env: environ.env });
    return [...head, '```', renderPlan(view), '```', ''].join('\n');
  } catch (err) {
    return [...head.slice(0, 2), `(none without a fleet: planning it reads the hosts, and here it said: ${(err as Error).message.split('\n')[0]}; run \`${plan}\` with a lab up or --inventory)`, ''].join('\n');
  } finally {
    await environ.close();
  }
}

/** "runbook plan <name>" and "runbook run <name>": one subcommand of each per runbook, its parameters as flags. */
function registerPlanAndRun(rb: Command): void {
  const plan = rb
    .command('plan')
    .description('Dry run: resolve the targets and print every step, each action with its target, inputs and consequence; changes nothing')
    .argument('[name]')
    .allowUnknownOption()
    .allowExcessArguments() // "plan nosuch --max-uptime 1d" must name the unknown runbook
    .action(unknownRunbook('plan'));
  const run = rb
    .command('run')
    .description(`Run a runbook (exit ${EXIT.succeeded} succeeded, ${EXIT.failed} failed, 2 bad input or lock held, ${EXIT['waiting-approval']} waiting for approval, ${EXIT.stopped} stopped)`)
    .argument('[name]')
    .allowUnknownOption()
    .allowExcessArguments()
    .action(unknownRunbook('run'));

  for (const entry of runbooks) {
    plansRunbook(plan.command(entry.runbook.name).description(entry.runbook.summary), entry);
    runsRunbook(run.command(entry.runbook.name).description(entry.runbook.summary), entry);
  }
}

/** Makes `cmd` print the dry-run plan of the runbook `entry`, with its parameters as flags. */
function plansRunbook(cmd: Command, entry: RegisteredRunbook): void {
  const specs = addParamOptions(cmd, entry);
  withOptions(cmd, ...ENV_OPTIONS, ...PLAN_ONLY);
  cmd.action(
    action(async (flags: EnvFlags & Record<string, unknown>) => {
      const raw = rawParamsFromFlags(specs, flags);
      const environ = await createEnvironment({ inventoryFile: flags.inventory, labDir: flags.labDir, drivers: driverFlagsOf(flags), stateDir: resolveStateDir(undefined) });
      try {
        const view = await planRun(entry, raw, { inventory: environ.inventory, env: environ.env });
        out(flags.json ? JSON.stringify(view, null, 2) : renderPlan(view, { steps: flags.allSteps === true }));
      } finally {
        await environ.close();
      }
    }),
  );
}

function registerResume(rb: Command): void {
  const resume = rb
    .command('resume')
    .description('Continue a run at its first step that has not succeeded, from the plan in its journal')
    .argument('<run-id>', 'the run, e.g. 2026-11-24T20-01-02Z-ab12 ("gameday runbook status" lists them)');
  withOptions(resume, ...ENV_OPTIONS, ...RUN_OPTIONS);
  addOptions(resume, RESUME_OPTIONS, ['allowChanged', 'assumeDone', 'retry']).action(
    action(async (runId: string, flags: ResumeFlags) => {
      const merged = withStoredEnvironment(resolveStateDir(flags.stateDir), runId, flags);
      return withEngine(merged, (opts) =>
        resumeRun(runId, findRunbook, { ...opts, allowChanged: flags.allowChanged, assumeDone: flags.assumeDone, retry: flags.retry }),
      );
    }),
  );
}

function registerStatus(rb: Command): void {
  const status = rb
    .command('status')
    .description('The runs (id, runbook, state, start, duration) and the locks held, or one run\'s steps')
    .argument('[run-id]', 'one run');
  withOptions(status, 'stateDir', 'json').action(
    action((runId: string | undefined, flags: { stateDir?: string; json?: boolean }) => {
      const stateDir = resolveStateDir(flags.stateDir);
      if (runId) {
        const one = loadRun(stateDir, runId);
        return out(flags.json ? JSON.stringify(runJson(one), null, 2) : renderRun(one));
      }
      const { runs, unreadable } = listRuns(stateDir);
      const locks = listLocks(stateDir);
      if (flags.json) return out(JSON.stringify({ runs: runs.map(runJson), unreadable, locks }, null, 2));
      out(renderRunList(runs));
      if (unreadable.length) out(`\nunreadable runs:\n${unreadable.map((u) => `  ${u.runId}: ${u.reason}`).join('\n')}`);
      if (locks.length) out(`\nlocks:\n${locks.map((l) => (l.unreadable ? `  ${l.name}: not a lock record (${l.unreadable}); the next run that needs it takes it` : `  ${l.name}: run ${l.holder} (pid ${l.pid} on ${l.hostname}), expires ${l.expiresAt}`)).join('\n')}`);
    }),
  );
}

function registerDocs(rb: Command): void {
  withOptions(rb.command('docs').description('Every runbook as Markdown: name, summary, parameters and steps'), 'out').action(
    action((flags: { out?: string }) => {
      const text = `${renderDocs(runbooks)}\n`;
      if (!flags.out) return out(text.trimEnd());
      writeFileSync(flags.out, text);
      process.stderr.write(`wrote ${flags.out}\n`);
    }),
  );
}
