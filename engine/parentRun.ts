import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { GamedayError } from '../core/errors.js';
import { readJournal } from './journal.js';
import { isRunId } from './runId.js';
import { runStateFromJournal } from './runState.js';

/** The parent of a process, from /proc (undefined when unknown). */
function parentOf(pid: number): number | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: the ppid is the 2nd field after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  } catch {
    return undefined;
  }
}

/** Whether `pid` is this process's parent, grandparent, ... */
export function isAncestorProcess(pid: number, of: number = process.pid): boolean {
  let current: number | undefined = parentOf(of);
  for (let depth = 0; current && current > 1 && depth < 64; depth++) {
    if (current === pid) return true;
    current = parentOf(current);
  }
  return false;
}

/**
 * A parent run named from outside (GAMEDAY_PARENT_RUN) shares its locks, so
 * it is accepted only when it is a run that is going on now, on this host,
 * in a process that started this one (a step that runs gameday as a child).
 * Any other process naming a live run's id would walk past its locks.
 */
export function checkParentRun(stateDir: string, parentRunId: string, input = '$GAMEDAY_PARENT_RUN'): string {
  if (!isRunId(parentRunId)) throw new GamedayError('BAD_PARENT_RUN', `not a run id: "${parentRunId}"`, input, 'e.g. 2026-11-24T20-01-02Z-ab12, or unset it');
  let run;
  try {
    run = runStateFromJournal(parentRunId, readJournal(stateDir, parentRunId));
  } catch {
    throw new GamedayError('BAD_PARENT_RUN', `no run ${parentRunId} in this state folder`, input, 'unset it: only a run of gameday sets it for the commands it starts');
  }
  if (run.state !== 'running' || run.hostname !== hostname() || !isAncestorProcess(run.pid)) {
    throw new GamedayError(
      'BAD_PARENT_RUN',
      `run ${parentRunId} is not a live run that started this command (it is ${run.state}, pid ${run.pid} on ${run.hostname})`,
      input,
      'unset it: a parent run shares its locks only with the commands it starts itself',
    );
  }
  return parentRunId;
}
