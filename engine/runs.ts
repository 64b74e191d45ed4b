import { existsSync, readdirSync } from 'node:fs';
import { readJournal } from './journal.js';
import { isRunId } from './runId.js';
import { runStateFromJournal, type RunState } from './runState.js';
import { runsDir } from './stateDir.js';

/** Every run in the state folder, oldest first (run ids sort by start time), and those whose journal cannot be read, with why. */
export function listRuns(stateDir: string): { runs: RunState[]; unreadable: Array<{ runId: string; reason: string }> } {
  const dir = runsDir(stateDir);
  if (!existsSync(dir)) return { runs: [], unreadable: [] };
  const runs: RunState[] = [];
  const unreadable: Array<{ runId: string; reason: string }> = [];
  for (const id of readdirSync(dir).filter(isRunId).sort()) {
    try {
      runs.push(runStateFromJournal(id, readJournal(stateDir, id)));
    } catch (err) {
      unreadable.push({ runId: id, reason: (err as Error).message });
    }
  }
  return { runs, unreadable };
}

export function loadRun(stateDir: string, runId: string): RunState {
  return runStateFromJournal(runId, readJournal(stateDir, runId));
}
