import { join, resolve } from 'node:path';

/** The state folder: an explicit option, else $GAMEDAY_STATE_DIR, else <cwd>/.gameday. */
export function resolveStateDir(explicit?: string): string {
  return resolve(explicit ?? process.env.GAMEDAY_STATE_DIR ?? join(process.cwd(), '.gameday'));
}

export function runsDir(stateDir: string): string {
  return join(stateDir, 'runs');
}

export function runDir(stateDir: string, runId: string): string {
  return join(runsDir(stateDir), runId);
}

export function journalFile(stateDir: string, runId: string): string {
  return join(runDir(stateDir, runId), 'journal.jsonl');
}

export function locksDir(stateDir: string): string {
  return join(stateDir, 'locks');
}
