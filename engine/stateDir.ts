import { accessSync, constants, mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { GamedayError } from '../core/errors.js';
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
    throw new GamedayError('BAD_RUN_ID', `"${runId}" is not a run id`, runId, 'run ids look like 2026-11-24T20-01-02Z-ab12; "gameday runbook status" lists the runs of runbooks, "gameday chaos status" the game days');
  }
  return join(runsDir(stateDir), runId);
}

export function journalFile(stateDir: string, runId: string): string {
  return join(runDir(stateDir, runId), 'journal.jsonl');
}

export function locksDir(stateDir: string): string {
  return join(stateDir, 'locks');
}

/**
 * Before a run acts: the state folder and its runs and locks folders exist (or
 * can be made) and take writes. One clear error naming the path otherwise.
 */
export function assertWritableStateDir(stateDir: string): void {
  for (const dir of [stateDir, runsDir(stateDir), locksDir(stateDir)]) {
    try {
      mkdirSync(dir, { recursive: true });
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
      accessSync(dir, constants.W_OK);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EEXIST' || code === 'ENOTDIR' ? 'is a file, not a folder' : code === 'EROFS' ? 'is on a read-only file system' : code === 'ENOSPC' ? 'cannot be created: the disk is full' : `cannot be written (${code ?? (err as Error).message})`;
      throw new GamedayError('STATE_DIR_UNUSABLE', `the state folder ${why}; nothing was done`, dir, 'give a writable folder with --state-dir or GAMEDAY_STATE_DIR');
    }
  }
}
