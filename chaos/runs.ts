import { hostname } from 'node:os';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { GamedayError } from '../core/errors.js';
import type { FaultDriver, ResolvedFault } from '../drivers/faults/types.js';
import { JournalWriter, journaled, listRuns, loadRun, readJournal, runDir, DEFAULT_LOCK_TTL_MS, LockSet, type RunState } from '../engine/index.js';
import { readReport } from './report/write.js';
import type { GameDayReport } from './report/types.js';

/** A game day as `chaos status` shows it. */
export interface GameDayRun {
  runId: string;
  scenario: string;
  state: RunState['state'];
  startedAt: string;
  verdict?: GameDayReport['verdict'];
  verdictReason?: string;
  /** Faults injected (or maybe injected: an intent without an outcome) and not undone. */
  activeFaults: ResolvedFault[];
}

const isGameDay = (run: RunState) => String(run.start.runbook).startsWith('chaos:');

/** The faults of a run that may be in place: an intent was written and no undo succeeded. */
export function activeFaults(stateDir: string, runId: string): ResolvedFault[] {
  const events = readJournal(stateDir, runId);
  const start = events.find((e) => e.stepId === 'run' && e.data?.type === 'started');
  const planned = ((start?.data?.plan as { faults?: ResolvedFault[] } | undefined)?.faults ?? []);
  return planned.filter((f) => {
    const injected = events.some((e) => e.stepId === `fault/${f.id}` && e.event === 'intent');
    const undone = events.filter((e) => e.stepId === `undo/${f.id}`).at(-1)?.event === 'succeeded';
    return injected && !undone;
  });
}

function describeRun(stateDir: string, run: RunState): GameDayRun {
  const folder = runDir(stateDir, run.runId);
  let report: GameDayReport | undefined;
  if (existsSync(join(folder, 'report.json'))) {
    try {
      report = readReport(folder);
    } catch {
      report = undefined;
    }
  }
  return {
    runId: run.runId,
    scenario: String(run.start.runbook).slice('chaos:'.length),
    state: run.state,
    startedAt: run.startedAt,
    verdict: report?.verdict,
    verdictReason: report?.verdictReason,
    activeFaults: activeFaults(stateDir, run.runId),
  };
}

export function listGameDays(stateDir: string): GameDayRun[] {
  return listRuns(stateDir).runs.filter(isGameDay).map((r) => describeRun(stateDir, r));
}

export function gameDayRun(stateDir: string, runId: string): GameDayRun {
  const run = loadRun(stateDir, runId);
  if (!isGameDay(run)) throw new GamedayError('NOT_A_GAME_DAY', `run ${runId} is a runbook run (${String(run.start.runbook)}), not a game day`, runId, '"gameday runbook status" shows runbook runs');
  return describeRun(stateDir, run);
}

/**
 * Undoes, from the journal, every fault a game day left in place (the run
 * was killed with -9, or an undo failed). Refuses while the run's process
 * lives: that process undoes its faults itself when stopped (SIGINT/SIGTERM).
 */
export async function abortGameDay(stateDir: string, runId: string, driver: FaultDriver, log: Logger, progress: (line: string) => void): Promise<{ undone: string[] }> {
  const run = gameDayRun(stateDir, runId);
  if (run.state === 'running') {
    const state = loadRun(stateDir, runId);
    throw new GamedayError('RUN_ALIVE', `game day ${runId} is still running (pid ${state.pid} on ${state.hostname}); it undoes its own faults when stopped`, runId, `stop it with: kill -INT ${state.pid} (or Ctrl-C in its terminal)`);
  }
  const faults = run.activeFaults;
  if (faults.length === 0) {
    progress(`game day ${runId}: no fault is left in place; nothing to undo`);
    return { undone: [] };
  }
  // Take the run's host locks back from the dead process before touching its hosts.
  const locks = new LockSet({ stateDir, runId: `${runId}-abort`, ancestors: [], ttlMs: DEFAULT_LOCK_TTL_MS, waitMs: 0, log });
  await locks.acquire([...new Set(faults.flatMap((f) => f.hosts.map((h) => `host:${h}`)))]);
  const journal = JournalWriter.append(stateDir, runId);
  const undone: string[] = [];
  try {
    journal.write('run', 'note', { type: 'resumed', pid: process.pid, hostname: hostname(), reason: 'chaos abort' });
    for (const f of faults) {
      const out = await journaled(journal, `undo/${f.id}`, { kind: 'action', by: 'chaos abort' }, () => driver.undo(f));
      if (!out.ok) throw new GamedayError('UNDO_FAILED', `could not undo ${f.type} ${f.label}: ${(out.error as Error).message}`, runId, `fix the cause and run "gameday chaos abort ${runId}" again`);
      undone.push(f.id);
      progress(`undone: ${f.type} ${f.label} (${f.hosts.join(', ')})`);
    }
    journal.write('run', 'note', { type: 'finished', state: 'stopped', verdict: 'aborted', verdictReason: 'aborted: faults undone by chaos abort' });
  } finally {
    journal.close();
    locks.releaseAll();
  }
  return { undone };
}
