import { join, resolve } from 'node:path';
import { GamedayError } from '../../topology/errors.js';
import { isRunId } from './runId.js';

/** The state folder: an explicit option, else $GAMEDAY_STATE_DIR, else <cwd>/.gameday. */
export function resolveStateDir(explicit?: string): string {
  return resolve(explicit ?? process.env.GAMEDAY_STATE_DIR ?? join(process.cwd(), '.gameday'));
}

export function runsDir(stateDir: string): string {
  return join(stateDir, 'runs');
}

/** A run's folder. The id is checked before any path is built from it, so no id reaches outside the runs folder. */
export function runDir(stateDir: string, runId: string): string {
  if (!isRunId(runId)) {
    throw new GamedayError('BAD_RUN_ID', `"${runId}" is not a run id`, runId, 'run ids look like 2026-11-24T20-01-02Z-ab12; "gameday runbook status" lists them');
  }
  return join(runsDir(stateDir), runId);
}

export function journalFile(stateDir: string, runId: string): string {
  return join(runDir(stateDir, runId), 'journal.jsonl');
}

export function locksDir(stateDir: string): string {
  return join(stateDir, 'locks');
}
