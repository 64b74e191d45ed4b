import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { GamedayError } from '../core/errors.js';
import { log } from '../core/log.js';
import { resolveStateDir, runDir, stopOnSignals } from '../engine/index.js';
import { safeWrite } from '../engine/signals.js';
import { listScenarios, loadScenario, type LoadedScenario } from '../chaos/scenario/load.js';
import { planGameDay, runGameDay } from '../chaos/gameDay/run.js';
import { abortGameDay, gameDayRun, listGameDays } from '../chaos/runs.js';
import { readReport } from '../chaos/report/write.js';
import { renderReportMarkdown } from '../chaos/report/markdown.js';
import { compareJson, renderCompare } from '../chaos/report/compare.js';
import type { GameDayReport } from '../chaos/report/types.js';
import { statusOf } from '../chaos/report/format.js';
import { plannedChecks, type PlannedCheck } from '../chaos/checks/applicability.js';
import { faultDriverFor, gameDayEnv, gameDayEnvironment, gameDayInventory, labIsUp } from './wiring/gameDayEnv.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { summaryOf } from './summaries.js';

/** 0 every check held; 1 a check failed (the game day found a weakness); 2 bad input or refused; 130 stopped. */
const EXIT: Record<GameDayReport['verdict'], number> = { passed: 0, failed: 1, refused: 2, aborted: 130 };

interface EnvFlags {
  yes?: boolean;
  inventory?: string;
  labDir?: string;
  stateDir?: string;
  json?: boolean;
}

const out = (text: string): void => void safeWrite(process.stdout, `${text}\n`);
const progress = (line: string): void => void safeWrite(process.stderr, `${line}\n`);

const SCENARIO_ARGUMENT = ['<scenario>', 'a built-in scenario name ("gameday chaos list") or a scenario YAML file'] as const;

/** The fleet a chaos command acts on, and where its runs are: "chaos plan", "run" and "abort". */
function addTargetOptions(cmd: Command): Command {
  return withOptions(cmd, 'inventory', 'labDir', 'stateDir');
}

/**
 * Faults on a real fleet are destructive: asked for at a terminal, or
 * --yes without one; never assumed. The lab needs no confirmation.
 */
async function confirmFleet(flags: EnvFlags, what: string): Promise<void> {
  if (!flags.inventory || flags.yes) return;
  if (!process.stdin.isTTY) throw new GamedayError('NEEDS_YES', `${what} on a real fleet, without a terminal to ask`, '--yes', 'add --yes to confirm (cron, CI), or run it at a terminal');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = await rl.question(`${what} on the fleet of ${flags.inventory}. Type "yes" to go on: `);
    if (answer.trim() !== 'yes') throw new GamedayError('NOT_CONFIRMED', 'not confirmed: nothing was touched', what, 'type "yes", or pass --yes');
  } finally {
    rl.close();
  }
}

function summaryLines(r: GameDayReport, files?: { html: string }): string {
  const lines = [
    `${r.scenario.name}${r.target.layout ? ` on the ${r.target.layout} layout` : ''}: ${r.verdict.toUpperCase()} (${r.verdictReason})`,
    ...r.checks.map((c) => `  ${{ held: 'held  ', failed: 'FAILED', inconclusive: 'UNSURE' }[statusOf(c)]} ${c.id}: ${c.detail}`),
    ...(r.checksNotApplicable ?? []).map((n) => `  n/a    ${n.id}: ${n.why}`),
    `  load: ${r.load.requests} requests, ${r.load.failed} failed (read ${r.load.byKind.read.failed}, create ${r.load.byKind.create.failed}, mark-read ${r.load.byKind['mark-read'].failed}); error window ${(r.load.errorWindowMs / 1000).toFixed(1)} s; p99 ${Math.max(r.load.byKind.read.p99Ms, r.load.byKind.create.p99Ms)} ms`,
  ];
  if (files) lines.push(`  report: ${files.html}`);
  return lines.join('\n');
}

/** The pre-flight as text: the scenario, its faults' timeline and responses, the blast radius and the verdict. */
function planLines(loaded: LoadedScenario, plan: ReturnType<typeof planGameDay>, checks: PlannedCheck[]): string[] {
  const s = loaded.scenario;
  const lines = [
    `${s.name}: ${s.description}`,
    `load: ${s.load.rate} req/s (${s.load.createPercent} % creates, ${s.load.markReadPercent} % mark-reads), warm-up ${s.load.warmup / 1000} s, then ${s.load.duration / 1000} s`,
  ];
  for (const f of plan.faults) lines.push(`  +${f.atMs / 1000}s ${f.type} ${f.label}: ${f.hosts.join(', ')}${f.forMs !== undefined ? `; undone after ${f.forMs / 1000} s` : '; undone at the end'}`);
  for (const r of s.responses) lines.push(`  response: ${r.runbook} ${JSON.stringify(r.params)} once ${r.after} is ${r.on === 'undo' ? 'undone' : 'detected'}${r.delay ? ` (+${r.delay / 1000} s)` : ''}`);
  lines.push('blast radius:');
  for (const f of plan.preflight.faults) {
    lines.push(`  ${f.target}`);
    for (const b of f.blastRadius) lines.push(`    ${b.ok ? 'ok   ' : 'BREAKS'} ${b.what} (${b.left} left, needs ${b.needed})`);
    if (f.blastRadius.length === 0) lines.push('    no tier or pool loses a member');
    for (const side of f.sides ?? []) lines.push(`    side ${side.side}: ${side.detail}`);
  }
  lines.push('checks:');
  for (const c of checks) lines.push(`  ${{ yes: 'applies', if: 'if     ', no: 'n/a    ', off: 'off    ' }[c.applies]} ${c.id}: ${c.why}`);
  lines.push(plan.preflight.safe ? 'pre-flight: every tier and pool keeps enough members' : plan.preflight.expectBreaks ? 'pre-flight: breaks the fleet, as the scenario expects' : 'pre-flight: REFUSED: the faults break the fleet and the scenario does not say "expect: breaks"');
  return lines;
}

export function registerChaos(program: Command): void {
  const chaos = program.command('chaos').description(summaryOf('chaos'));
  registerList(chaos);
  registerPlan(chaos);
  registerRun(chaos);
  registerStatus(chaos);
  registerAbort(chaos);
  registerReport(chaos);
  registerCompare(chaos);
}

function registerList(chaos: Command): void {
  withOptions(chaos.command('list').description('The built-in scenarios'), 'json').action(
    action((flags: { json?: boolean }) => {
      const all = listScenarios().map(({ scenario, file }) => ({ name: scenario.name, expect: scenario.expect, description: scenario.description, file }));
      if (flags.json) return out(JSON.stringify(all, null, 2));
      const width = Math.max(...all.map((s) => s.name.length));
      out(all.map((s) => `${s.name.padEnd(width)}  ${s.description}${s.expect === 'breaks' ? ' [expect: breaks]' : ''}`).join('\n'));
    }),
  );
}

function registerPlan(chaos: Command): void {
  const plan = chaos
    .command('plan')
    .description('The pre-flight, changing nothing: the faults resolved against the fleet, their timeline and blast radius')
    .argument(...SCENARIO_ARGUMENT);
  withOptions(addTargetOptions(plan), 'json').action(
    action(async (name: string, flags: EnvFlags) => {
      const loaded = loadScenario(name);
      const inv = await gameDayInventory(flags);
      // A running lab's driver says here what it cannot inject, as the run would (a --power ssh lab takes fewer faults).
      const view = planGameDay(inv, loaded, !flags.inventory && labIsUp(flags) ? faultDriverFor(flags) : undefined);
      const checks = plannedChecks(inv, view.faults, loaded.scenario.checks);
      if (flags.json) return out(JSON.stringify({ scenario: loaded.scenario, ...view, checks }, null, 2));
      for (const line of planLines(loaded, view, checks)) out(line);
      return view.preflight.safe || view.preflight.expectBreaks ? 0 : 2;
    }),
  );
}

function registerRun(chaos: Command): void {
  const run = chaos
    .command('run')
    .description(`Run a game day: exit ${EXIT.passed} every check held, ${EXIT.failed} a check failed, 2 bad input or a refused pre-flight or steady state, ${EXIT.aborted} stopped`)
    .argument(...SCENARIO_ARGUMENT);
  withOptions(addTargetOptions(run), 'json', 'yes').action(
    action(async (name: string, flags: EnvFlags) => {
      const loaded = loadScenario(name);
      const stateDir = resolveStateDir(flags.stateDir);
      const environ = await gameDayEnvironment(flags);
      planGameDay(environ.inventory, loaded, faultDriverFor(flags)); // refuse bad input before asking
      await confirmFleet(flags, `game day ${loaded.scenario.name} injects ${loaded.scenario.faults.map((f) => f.type).join(', ')}`);
      const stop = stopOnSignals({ exitCode: 130, write: progress });
      try {
        const outcome = await runGameDay(gameDayEnv(environ, flags, stateDir), loaded, { stateDir, signal: stop.signal, log, progress });
        out(flags.json ? JSON.stringify(outcome.report, null, 2) : summaryLines(outcome.report, outcome.files));
        return EXIT[outcome.report.verdict];
      } finally {
        stop.dispose();
        await environ.close();
      }
    }),
  );
}

function registerStatus(chaos: Command): void {
  const status = chaos
    .command('status')
    .description('The game days, their verdicts, and any fault still in place')
    .argument('[run-id]', 'one game day');
  withOptions(status, 'stateDir', 'json').action(
    action((runId: string | undefined, flags: { stateDir?: string; json?: boolean }) => {
      const stateDir = resolveStateDir(flags.stateDir);
      const runs = runId ? [gameDayRun(stateDir, runId)] : listGameDays(stateDir);
      if (flags.json) return out(JSON.stringify(runs, null, 2));
      if (runs.length === 0) return out('no game day has run here yet: "gameday chaos list", then "gameday chaos run <scenario>"');
      for (const r of runs) {
        out(`${r.runId}  ${r.scenario.padEnd(24)} ${r.state.padEnd(9)} ${r.verdict ?? '-'}${r.verdictReason ? `: ${r.verdictReason}` : ''}`);
        for (const f of r.activeFaults) out(`    FAULT STILL IN PLACE: ${f.type} ${f.label} (${f.hosts.join(', ')}); undo it: gameday chaos abort ${r.runId}`);
      }
      return runs.some((r) => r.activeFaults.length > 0 && r.state !== 'running') ? 1 : 0;
    }),
  );
}

function registerAbort(chaos: Command): void {
  const abort = chaos
    .command('abort')
    .description('Undo, from its journal, every fault a game day left in place (it was killed, or an undo failed)')
    .argument('<run-id>', 'the game day ("gameday chaos status" lists them)');
  withOptions(addTargetOptions(abort), 'yes').action(
    action(async (runId: string, flags: EnvFlags) => {
      const stateDir = resolveStateDir(flags.stateDir);
      gameDayRun(stateDir, runId); // a clear error for an unknown run before anything else
      await confirmFleet(flags, `chaos abort ${runId} undoes its faults`);
      const { undone } = await abortGameDay(stateDir, runId, faultDriverFor(flags), log, progress);
      out(undone.length ? `undid ${undone.length} fault(s) of ${runId}: ${undone.join(', ')}` : `nothing was left in place by ${runId}`);
    }),
  );
}

function registerReport(chaos: Command): void {
  const report = chaos
    .command('report')
    .description('A game day\'s report (Markdown; --json for the JSON), and where its HTML is')
    .argument('<run-id>', 'the game day');
  withOptions(report, 'stateDir', 'json').action(
    action((runId: string, flags: { stateDir?: string; json?: boolean }) => {
      const folder = runDir(resolveStateDir(flags.stateDir), runId);
      const r = readReport(folder);
      out(flags.json ? JSON.stringify(r, null, 2) : `${renderReportMarkdown(r)}\nHTML: ${folder}/report.html`);
    }),
  );
}

function registerCompare(chaos: Command): void {
  const compare = chaos
    .command('compare')
    .description('Two game days side by side (the same scenario before and after a change, or on two layouts)')
    .argument('<a>', 'a run id')
    .argument('<b>', 'another run id');
  withOptions(compare, 'stateDir', 'json').action(
    action((a: string, b: string, flags: { stateDir?: string; json?: boolean }) => {
      const stateDir = resolveStateDir(flags.stateDir);
      const ra = readReport(runDir(stateDir, a));
      const rb = readReport(runDir(stateDir, b));
      out(flags.json ? JSON.stringify(compareJson(ra, rb), null, 2) : renderCompare(ra, rb));
    }),
  );
}
