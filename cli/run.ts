import { GamedayError } from '../topology/errors.js';

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
    } catch (err) {
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
