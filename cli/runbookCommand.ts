import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
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

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
const out = (text: string): void => {
  process.stdout.write(`${text}\n`);
};

function addEnvOptions(cmd: Command): Command {
  return cmd
    .option('--inventory <file>', 'inventory YAML file (default: the lab\'s inventory)')
    .option('--lab-dir <path>', 'lab folder whose inventory to use (default: .gameday/lab, or $GAMEDAY_LAB_DIR)')
    .option('--json', 'print the result as JSON')
    .option('--ssh-user <user>', 'ssh power driver: remote user (over the inventory\'s drivers.ssh and $GAMEDAY_SSH_USER)')
    .option('--ssh-port <port>', 'ssh power driver: port')
    .option('--ssh-key <file>', 'ssh power driver: private key (ssh -i)')
    .option('--ssh-jump <[user@]host[:port]>', 'ssh power driver: bastion (ssh -J)')
    .option('--aws-region <region>', 'AWS power drivers: region for hosts whose zone is not an AWS zone name')
    .option('--aws-uptime <source>', 'AWS power driver: uptime from launch-time (default) or ssm (/proc/uptime through SSM Run Command)');
}

const DRIVER_FLAGS = ['sshUser', 'sshPort', 'sshKey', 'sshJump', 'awsRegion', 'awsUptime'] as const;
/** The driver flags given (only those), e.g. { sshJump: 'ops@bastion' }. */
const driverFlagsOf = (flags: DriverFlags): DriverFlags => Object.fromEntries(DRIVER_FLAGS.filter((k) => typeof flags[k] === 'string').map((k) => [k, flags[k]]));

function addRunOptions(cmd: Command): Command {
  return addEnvOptions(cmd)
    .option('--state-dir <path>', 'where runs and locks live (default: .gameday, or $GAMEDAY_STATE_DIR)')
    .option('--yes', 'approve approval steps without asking (required without a terminal; never assumed)')
    .option('--wait-lock <duration>', 'wait up to this long for a lock another run holds (default: fail at once), e.g. 30m')
    .option('--lock-ttl <duration>', 'lock time-to-live, renewed while the run lives (default 10m)')
    .option('--slack-webhook <url>', 'Slack incoming webhook for run notifications (default: $GAMEDAY_SLACK_WEBHOOK)');
}

const RESERVED = new Set(['allSteps', 'sshUser', 'sshPort', 'sshKey', 'sshJump', 'awsRegion', 'awsUptime', 'resumeUnfinished', 'inventory', 'labDir', 'json', 'stateDir', 'yes', 'waitLock', 'lockTtl', 'slackWebhook', 'help', 'allowChanged', 'assumeDone', 'retry']);

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
  const inventoryFile = flags.inventory ? resolve(flags.inventory) : undefined;
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
      environment: { ...(inventoryFile ? { inventoryFile } : {}), ...(flags.labDir ? { labDir: resolve(flags.labDir) } : {}), ...(Object.keys(drivers).length ? { drivers } : {}) },
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
  addRunOptions(cmd);
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
          return withEngine(flags, (opts) => resumeRun(unfinished.runId, findRunbook, opts));
        }
      }
      return withEngine(flags, (opts) => startRun(entry, raw, opts));
    }),
  );
  cmd.option('--resume-unfinished', "if this runbook's last run in the state folder did not finish (failed, stopped, crashed), resume it instead of starting a new one (what a scheduled job wants)");
  return cmd;
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

  rb.command('list')
    .description('The runbooks this gameday knows')
    .option('--json', 'as JSON')
    .action(
      action((flags: { json?: boolean }) => {
        const rows = runbooks.map((r) => ({ name: r.runbook.name, summary: r.runbook.summary }));
        if (flags.json) return out(JSON.stringify(rows, null, 2));
        const width = Math.max(...rows.map((r) => r.name.length));
        out(rows.map((r) => `${r.name.padEnd(width)}  ${r.summary}`).join('\n'));
      }),
    );

  rb.command('show')
    .description('One runbook: what it does, its parameters and steps (Markdown)')
    .argument('<name>', 'runbook name')
    .action(action((name: string) => out(renderRunbookDocs(requireRunbook(name)))));

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
    const name = entry.runbook.name;
    const planCmd = plan.command(name).description(entry.runbook.summary);
    const planSpecs = addParamOptions(planCmd, entry);
    addEnvOptions(planCmd);
    planCmd.option('--all-steps', 'list every step after the summary (runbooks that lead with one, such as reboot-stale)');
    planCmd.action(
      action(async (flags: EnvFlags & Record<string, unknown>) => {
        const raw = rawParamsFromFlags(planSpecs, flags);
        const environ = await createEnvironment({ inventoryFile: flags.inventory, labDir: flags.labDir, drivers: driverFlagsOf(flags), stateDir: resolveStateDir(undefined) });
        try {
          const view = await planRun(entry, raw, { inventory: environ.inventory, env: environ.env });
          out(flags.json ? JSON.stringify(view, null, 2) : renderPlan(view, { steps: flags.allSteps === true }));
        } finally {
          await environ.close();
        }
      }),
    );

    runsRunbook(run.command(name).description(entry.runbook.summary), entry);
  }

  addRunOptions(
    rb
      .command('resume')
      .description('Continue a run at its first step that has not succeeded, from the plan in its journal')
      .argument('<run-id>', 'the run, e.g. 2026-11-24T20-01-02Z-ab12 ("gameday runbook status" lists them)'),
  )
    .option('--allow-changed', 'resume although the runbook changed since the run began')
    .option('--assume-done <step-id>', 'an at-most-once step with no known outcome took effect: record it as skipped (repeatable)', collect)
    .option('--retry <step-id>', 'an at-most-once step with no known outcome did not take effect: run it again (repeatable)', collect)
    .action(
      action(async (runId: string, flags: ResumeFlags) => {
        const stateDir = resolveStateDir(flags.stateDir);
        const stored = loadRun(stateDir, runId).start.environment ?? {};
        const merged: ResumeFlags = {
          ...flags,
          inventory: flags.inventory ?? (typeof stored.inventoryFile === 'string' ? stored.inventoryFile : undefined),
          labDir: flags.labDir ?? (typeof stored.labDir === 'string' ? stored.labDir : undefined),
          // The run's driver flags, unless given again now.
          ...storedDriverFlags(stored.drivers),
          ...driverFlagsOf(flags),
        };
        return withEngine(merged, (opts) =>
          resumeRun(runId, findRunbook, { ...opts, allowChanged: flags.allowChanged, assumeDone: flags.assumeDone, retry: flags.retry }),
        );
      }),
    );

  rb.command('status')
    .description('The runs (id, runbook, state, start, duration) and the locks held, or one run\'s steps')
    .argument('[run-id]', 'one run')
    .option('--state-dir <path>', 'where runs and locks live (default: .gameday, or $GAMEDAY_STATE_DIR)')
    .option('--json', 'as JSON')
    .action(
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

  rb.command('docs')
    .description('Every runbook as Markdown: name, summary, parameters and steps')
    .option('--out <file>', 'write to a file instead of stdout')
    .action(
      action((flags: { out?: string }) => {
        const text = `${renderDocs(runbooks)}\n`;
        if (!flags.out) return out(text.trimEnd());
        writeFileSync(flags.out, text);
        process.stderr.write(`wrote ${flags.out}\n`);
      }),
    );
}
