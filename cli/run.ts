import { GamedayError } from '../core/errors.js';

const FS_HINTS: Record<string, string> = {
  EACCES: 'check its permissions, or point the command at another folder',
  EPERM: 'check its permissions, or point the command at another folder',
  EROFS: 'the file system is read-only: use a writable folder (--state-dir, GAMEDAY_STATE_DIR, --out)',
  ENOSPC: 'the disk is full: free space, then try again',
  EDQUOT: 'the disk quota is used up: free space, then try again',
  ENOTDIR: 'a part of the path is a file where a folder is needed: move it away or use another path',
  EISDIR: 'a folder is where a file is needed: use another path',
  ENOENT: 'the folder does not exist: create it or use another path',
  EEXIST: 'something is already there: move it away or use another path',
};

/** A file-system error caused by the environment, as one clear message naming the path (exit 2), not a stack. */
export function asFileError(err: unknown): GamedayError | undefined {
  const e = err as NodeJS.ErrnoException;
  if (!e || typeof e.code !== 'string' || !(e.code in FS_HINTS) || typeof e.path !== 'string') return undefined;
  const what = e.message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '');
  return new GamedayError(`FS_${e.code}`, `${what} (${e.syscall ?? 'file system'})`, e.path, FS_HINTS[e.code]);
}

/**
 * Runs a command's action: a GamedayError prints as one clear message (exit 2),
 * anything else as an internal error with its stack (exit 70).
 * The action returns the exit code it wants (default 0).
 */
export function action<A extends unknown[]>(fn: (...args: A) => Promise<number | void> | number | void) {
  return async (...args: A): Promise<void> => {
    try {
      const code = await fn(...args);
      process.exitCode = typeof code === 'number' ? code : 0;
    } catch (caught) {
      const err = asFileError(caught) ?? caught;
      if (err instanceof GamedayError) {
        process.stderr.write(`${err.describe()}\n`);
        process.exitCode = 2;
      } else {
        process.stderr.write(`internal error: ${(err as Error).stack ?? String(err)}\n`);
        process.exitCode = 70;
      }
    }
  };
}
