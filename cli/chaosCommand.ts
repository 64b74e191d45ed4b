import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { loadInventory, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { FaultDriver } from '../drivers/faults/types.js';
import { fleetFaultDriver } from '../drivers/faults/fleet.js';
import { faultOptionsFromEnv } from '../drivers/faults/env.js';
import { log } from '../core/log.js';
import { requireRunbook } from '../runbooks/registry.js';
import { createEnvironment, type RunbookEnvironment } from './wiring/environment.js';
import { fleet, notificationMasterOf, redisEndpoint, sentinelEndpoint } from '../runbooks/steps/fleet.js';
import { openNotificationStores } from '../runbooks/steps/consistencyCheck.js';
import { startRun, resolveStateDir, runDir, stopOnSignals, silentProgress } from '../engine/index.js';
import { safeWrite } from '../engine/signals.js';
import { defaultLabDir, openLab } from '../lab/context.js';
import { labFaultDriver } from '../lab/faultDriver.js';
import { listScenarios, loadScenario } from '../chaos/scenario/load.js';
import { planGameDay, runGameDay, type GameDayEnv } from '../chaos/gameDay.js';
import { abortGameDay, gameDayRun, listGameDays } from '../chaos/runs.js';
import { readReport } from '../chaos/report/write.js';
import { renderReportMarkdown } from '../chaos/report/markdown.js';
import { compareJson, renderCompare } from '../chaos/report/compare.js';
import type { GameDayReport } from '../chaos/report/types.js';
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

function addEnvOptions(cmd: Command): Command {
  return cmd
    .option('--inventory <file>', 'a real fleet\'s inventory YAML (default: the lab)')
    .option('--lab-dir <path>', 'the lab folder (default: .gameday/lab, or $GAMEDAY_LAB_DIR)')
    .option('--state-dir <path>', 'where runs and locks live (default: .gameday, or $GAMEDAY_STATE_DIR)');
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

/**
 * The fault driver for this fleet: the lab's, or for --inventory the fleet's
 * (each host by its power kind: ssh or aws), its options from GAMEDAY_SSH_*,
 * GAMEDAY_FAULT_*, GAMEDAY_AWS_REGION and GAMEDAY_FIS_TEMPLATES (docs/game-days.md).
 */
function faultDriverFor(flags: EnvFlags): FaultDriver {
  if (!flags.inventory) return labFaultDriver(labDirOf(flags));
  return fleetFaultDriver(loadInventory(resolve(flags.inventory)), faultOptionsFromEnv(process.env));
}

function labDirOf(flags: EnvFlags): string {
  return resolve(flags.labDir ?? process.env.GAMEDAY_LAB_DIR ?? defaultLabDir());
}

function webFrontends(inv: Inventory): GameDayEnv['frontends'] {
  const appHosts = new Set(inv.hosts.filter((h) => 'http' in h.services && !inv.pools.some((p) => p.proxies.includes(h.name))).map((h) => h.name));
  const proxies = new Set(inv.pools.filter((p) => p.servers.some((s) => appHosts.has(s))).flatMap((p) => p.proxies));
  return inv.hosts.filter((h) => proxies.has(h.name) && h.services.http).map((h) => ({ address: h.address, port: h.services.http }));
}

/** Wires the fleet's drivers into what a game day needs. */
function gameDayEnv(environ: RunbookEnvironment, flags: EnvFlags, stateDir: string): GameDayEnv {
  const f = fleet(environ.env);
  const inv = environ.inventory;
  const lab = flags.inventory ? undefined : openLab(labDirOf(flags));
  const layout = lab ? String((lab.state as Record<string, unknown>).layout ?? 'spread') : undefined;
  return {
    inventory: inv,
    targetName: { inventory: flags.inventory ? resolve(flags.inventory) : `lab ${labDirOf(flags)}`, ...(layout ? { layout } : {}) },
    faults: faultDriverFor(flags),
    probes: {
      haproxyEndpoint: f.haproxyEndpoint,
      mysql: f.mysql,
      sentinels: { endpoints: inv.hosts.filter((h) => 'sentinel' in h.services).map((h) => ({ name: h.name, ...sentinelEndpoint(f, h) })), masterName: notificationMasterOf(f, inv) },
    },
    redisServers: inv.hosts.filter((h) => 'redis' in h.services).map((h) => ({ name: h.name, ...redisEndpoint(f, h) })),
    frontends: webFrontends(inv),
    openStores: () => openNotificationStores(f, inv),
    async runResponse(runbook, params, parentRunId, signal) {
      // The response stands in for the on-call engineer: it approves its own approval steps.
      const result = await startRun(requireRunbook(runbook), params, {
        stateDir,
        inventory: inv,
        env: environ.env,
        parentRunId,
        yes: true,
        signal,
        log: log.child({ response: runbook }),
        progress: silentProgress,
      });
      return { runId: result.runId, state: result.state, error: result.failedStep?.error };
    },
  };
}

async function environmentFor(flags: EnvFlags): Promise<RunbookEnvironment> {
  if (!flags.inventory && !openLab(labDirOf(flags))) {
    throw new GamedayError('LAB_NOT_UP', 'no lab is up there, and no --inventory was given', labDirOf(flags), 'start the lab: gameday lab up (or give a fleet with --inventory)');
  }
  return createEnvironment({ inventoryFile: flags.inventory ? resolve(flags.inventory) : undefined, labDir: labDirOf(flags) });
}

function summaryLines(r: GameDayReport, files?: { html: string }): string {
  const lines = [
    `${r.scenario.name}${r.target.layout ? ` on the ${r.target.layout} layout` : ''}: ${r.verdict.toUpperCase()} (${r.verdictReason})`,
    ...r.checks.map((c) => `  ${c.passed ? 'held  ' : 'FAILED'} ${c.id}: ${c.detail}`),
    `  load: ${r.load.requests} requests, ${r.load.failed} failed (read ${r.load.byKind.read.failed}, create ${r.load.byKind.create.failed}, mark-read ${r.load.byKind['mark-read'].failed}); error window ${(r.load.errorWindowMs / 1000).toFixed(1)} s; p99 ${Math.max(r.load.byKind.read.p99Ms, r.load.byKind.create.p99Ms)} ms`,
  ];
  if (files) lines.push(`  report: ${files.html}`);
  return lines.join('\n');
}

export function registerChaos(program: Command): void {
  const chaos = program.command('chaos').description(summaryOf('chaos'));

  chaos
    .command('list')
    .description('The built-in scenarios')
    .option('--json', 'as JSON')
    .action(
      action((flags: { json?: boolean }) => {
        const all = listScenarios().map(({ scenario, file }) => ({ name: scenario.name, expect: scenario.expect, description: scenario.description, file }));
        if (flags.json) return out(JSON.stringify(all, null, 2));
        const width = Math.max(...all.map((s) => s.name.length));
        out(all.map((s) => `${s.name.padEnd(width)}  ${s.description}${s.expect === 'breaks' ? ' [expect: breaks]' : ''}`).join('\n'));
      }),
    );

  addEnvOptions(
    chaos
      .command('plan')
      .description('The pre-flight, changing nothing: the faults resolved against the fleet, their timeline and blast radius')
      .argument('<scenario>', 'a built-in scenario name ("gameday chaos list") or a scenario YAML file'),
  )
    .option('--json', 'as JSON')
    .action(
      action(async (name: string, flags: EnvFlags) => {
        const loaded = loadScenario(name);
        const inv = flags.inventory ? (await createEnvironment({ inventoryFile: resolve(flags.inventory) })).inventory : (openLab(labDirOf(flags))?.inventory ?? (await createEnvironment({ labDir: labDirOf(flags) })).inventory);
        const plan = planGameDay(inv, loaded, undefined);
        if (flags.json) return out(JSON.stringify({ scenario: loaded.scenario, ...plan }, null, 2));
        const s = loaded.scenario;
        out(`${s.name}: ${s.description}`);
        out(`load: ${s.load.rate} req/s (${s.load.createPercent} % creates, ${s.load.markReadPercent} % mark-reads), warm-up ${s.load.warmup / 1000} s, then ${s.load.duration / 1000} s`);
        for (const f of plan.faults) out(`  +${f.atMs / 1000}s ${f.type} ${f.label}: ${f.hosts.join(', ')}${f.forMs !== undefined ? `; undone after ${f.forMs / 1000} s` : '; undone at the end'}`);
        for (const r of s.responses) out(`  response: ${r.runbook} ${JSON.stringify(r.params)} once ${r.after} is ${r.on === 'undo' ? 'undone' : 'detected'}${r.delay ? ` (+${r.delay / 1000} s)` : ''}`);
        out('blast radius:');
        for (const f of plan.preflight.faults) {
          out(`  ${f.target}`);
          for (const b of f.blastRadius) out(`    ${b.ok ? 'ok   ' : 'BREAKS'} ${b.what} (${b.left} left, needs ${b.needed})`);
          if (f.blastRadius.length === 0) out('    no tier or pool loses a member');
        }
        out(plan.preflight.safe ? 'pre-flight: every tier and pool keeps enough members' : plan.preflight.expectBreaks ? 'pre-flight: breaks the fleet, as the scenario expects' : 'pre-flight: REFUSED: the faults break the fleet and the scenario does not say "expect: breaks"');
        return plan.preflight.safe || plan.preflight.expectBreaks ? 0 : 2;
      }),
    );

  addEnvOptions(
    chaos
      .command('run')
      .description(`Run a game day: exit ${EXIT.passed} every check held, ${EXIT.failed} a check failed, 2 bad input or a refused pre-flight or steady state, ${EXIT.aborted} stopped`)
      .argument('<scenario>', 'a built-in scenario name ("gameday chaos list") or a scenario YAML file'),
  )
    .option('--json', 'print the report\'s JSON')
    .option('--yes', 'with --inventory: inject the faults without asking (no terminal)')
    .action(
      action(async (name: string, flags: EnvFlags) => {
        const loaded = loadScenario(name);
        const stateDir = resolveStateDir(flags.stateDir);
        const environ = await environmentFor(flags);
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

  chaos
    .command('status')
    .description('The game days, their verdicts, and any fault still in place')
    .argument('[run-id]', 'one game day')
    .option('--state-dir <path>', 'where runs and locks live (default: .gameday, or $GAMEDAY_STATE_DIR)')
    .option('--json', 'as JSON')
    .action(
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

  addEnvOptions(
    chaos
      .command('abort')
      .description('Undo, from its journal, every fault a game day left in place (it was killed, or an undo failed)')
      .argument('<run-id>', 'the game day ("gameday chaos status" lists them)'),
  )
    .option('--yes', 'with --inventory: undo without asking (no terminal)')
    .action(
    action(async (runId: string, flags: EnvFlags) => {
      const stateDir = resolveStateDir(flags.stateDir);
      gameDayRun(stateDir, runId); // a clear error for an unknown run before anything else
      await confirmFleet(flags, `chaos abort ${runId} undoes its faults`);
      const { undone } = await abortGameDay(stateDir, runId, faultDriverFor(flags), log, progress);
      out(undone.length ? `undid ${undone.length} fault(s) of ${runId}: ${undone.join(', ')}` : `nothing was left in place by ${runId}`);
    }),
  );

  chaos
    .command('report')
    .description('A game day\'s report (Markdown; --json for the JSON), and where its HTML is')
    .argument('<run-id>', 'the game day')
    .option('--state-dir <path>', 'where runs live (default: .gameday, or $GAMEDAY_STATE_DIR)')
    .option('--json', 'as JSON')
    .action(
      action((runId: string, flags: { stateDir?: string; json?: boolean }) => {
        const folder = runDir(resolveStateDir(flags.stateDir), runId);
        const r = readReport(folder);
        out(flags.json ? JSON.stringify(r, null, 2) : `${renderReportMarkdown(r)}\nHTML: ${folder}/report.html`);
      }),
    );

  chaos
    .command('compare')
    .description('Two game days side by side (the same scenario before and after a change, or on two layouts)')
    .argument('<a>', 'a run id')
    .argument('<b>', 'another run id')
    .option('--state-dir <path>', 'where runs live (default: .gameday, or $GAMEDAY_STATE_DIR)')
    .option('--json', 'as JSON')
    .action(
      action((a: string, b: string, flags: { stateDir?: string; json?: boolean }) => {
        const stateDir = resolveStateDir(flags.stateDir);
        const ra = readReport(runDir(stateDir, a));
        const rb = readReport(runDir(stateDir, b));
        out(flags.json ? JSON.stringify(compareJson(ra, rb), null, 2) : renderCompare(ra, rb));
      }),
    );
}
