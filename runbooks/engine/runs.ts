import { existsSync, readdirSync } from 'node:fs';
import { readJournal } from './journal.js';
import { isRunId } from './runId.js';
import { runStateFromJournal, type RunState } from './runState.js';
import { runsDir } from './stateDir.js';

/** Every run in the state folder, oldest first (run ids sort by start time). Unreadable ones are skipped. */
export function listRuns(stateDir: string): RunState[] {
  const dir = runsDir(stateDir);
  if (!existsSync(dir)) return [];
  const out: RunState[] = [];
  for (const id of readdirSync(dir).filter(isRunId).sort()) {
    try {
      out.push(runStateFromJournal(id, readJournal(stateDir, id)));
    } catch {
      // a run folder without a readable journal (being created, or damaged)
    }
  }
  return out;
}

export function loadRun(stateDir: string, runId: string): RunState {
  return runStateFromJournal(runId, readJournal(stateDir, runId));
}
