import { realpathSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, sep } from 'node:path';
import { GamedayError } from '../../core/errors.js';

/*
 * Which secrets an inventory may reference. An inventory is shared,
 * generated and imported, and a secret it names is sent to addresses it
 * chooses: { env: AWS_SECRET_ACCESS_KEY } or { file: /proc/self/environ }
 * would hand the runner's own keys to any host. So references come from an
 * allow-list the operator sets, with defaults that fit how secrets are kept:
 *   variables: GAMEDAY_SECRET_ENV, comma-separated names with * wildcards
 *              (default *_PASSWORD,*_PASS,*_SECRET); AWS_* never;
 *   files:     GAMEDAY_SECRET_DIRS, comma-separated folders (default
 *              /etc/gameday, /run/secrets, ~/.config/gameday), a regular
 *              file readable by its owner only (0600 or 0400).
 */

const DEFAULT_ENV = '*_PASSWORD,*_PASS,*_SECRET';
const NEVER_ENV = /^AWS_/;

const globRegex = (glob: string) => new RegExp(`^${glob.trim().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);

/** Refuses (SECRET_NOT_ALLOWED) a variable the operator's allow-list does not name. */
export function checkSecretVariable(name: string, field: string, env: NodeJS.ProcessEnv): void {
  const list = env.GAMEDAY_SECRET_ENV?.trim() || DEFAULT_ENV;
  if (!NEVER_ENV.test(name) && list.split(',').filter((g) => g.trim()).some((g) => globRegex(g).test(name))) return;
  throw new GamedayError(
    'SECRET_NOT_ALLOWED',
    `the inventory references environment variable ${name}, which the secret allow-list (${NEVER_ENV.test(name) ? 'AWS_* is never allowed' : `GAMEDAY_SECRET_ENV=${list}`}) does not name`,
    field,
    `rename the variable (e.g. ${name.replace(/^AWS_/, '')}_PASSWORD), or add it to GAMEDAY_SECRET_ENV (comma-separated, * wildcards) if it is meant for these hosts`,
  );
}

/** Refuses (SECRET_NOT_ALLOWED) a file outside the allowed folders, not a regular file, or readable by others than its owner. */
export function checkSecretFile(path: string, field: string, env: NodeJS.ProcessEnv): void {
  const dirs = (env.GAMEDAY_SECRET_DIRS?.trim() || ['/etc/gameday', '/run/secrets', join(homedir(), '.config', 'gameday')].join(',')).split(',').map((d) => d.trim()).filter(Boolean);
  let real: string;
  try {
    real = realpathSync(path);
  } catch {
    return; // missing: the read says so (SECRET_UNREADABLE), naming the file
  }
  const inside = dirs.some((d) => {
    let dir: string;
    try {
      dir = realpathSync(d);
    } catch {
      return false;
    }
    return real.startsWith(dir.endsWith(sep) ? dir : `${dir}${sep}`);
  });
  if (!inside) {
    throw new GamedayError('SECRET_NOT_ALLOWED', `secret file ${path} is outside the folders secrets may come from (${dirs.join(', ')})`, field, 'move it into one of them, or name its folder in GAMEDAY_SECRET_DIRS (comma-separated)');
  }
  const st = statSync(real);
  if (!st.isFile()) throw new GamedayError('SECRET_NOT_ALLOWED', `secret file ${path} is not a regular file`, field, 'point the reference at a file that holds only the secret');
  if ((st.mode & 0o077) !== 0) {
    throw new GamedayError('SECRET_NOT_ALLOWED', `secret file ${path} is readable by others than its owner (mode ${(st.mode & 0o777).toString(8)})`, field, `chmod 600 ${path}`);
  }
}
