import { chownSync, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';

/**
 * The system accounts that Debian's packages create for their daemons. The
 * lab runs each service as its package's account, as production does, so that
 * a service (or SQL's INTO OUTFILE) can never write as root.
 */
export const SERVICE_ACCOUNT_NAMES = { mariadb: 'mysql', redis: 'redis', haproxy: 'haproxy' } as const;
const PACKAGE_OF = { mariadb: 'mariadb-server', redis: 'redis-server', haproxy: 'haproxy' } as const;
export type ServiceKind = keyof typeof SERVICE_ACCOUNT_NAMES;

export const serviceAccountSchema = z.object({ name: z.string(), uid: z.number().int(), gid: z.number().int() });
export type ServiceAccount = z.infer<typeof serviceAccountSchema>;

/** The account's uid and gid from /etc/passwd, or undefined when it does not exist. */
export function lookupAccount(name: string, passwd = '/etc/passwd'): ServiceAccount | undefined {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [user, , uid, gid] = line.split(':');
    if (user === name && uid !== undefined && gid !== undefined) return { name, uid: Number(uid), gid: Number(gid) };
  }
  return undefined;
}

/** The first folder above `dir` (itself included) that `account` cannot pass through, or undefined when it reaches `dir`. */
export function firstBlockingFolder(dir: string, account: ServiceAccount): string | undefined {
  for (let d = dir; ; d = dirname(d)) {
    let st;
    try {
      st = statSync(d);
    } catch {
      st = undefined; // not made yet: it will be made by us, searchable
    }
    if (st) {
      const bit = st.uid === account.uid ? 0o100 : st.gid === account.gid ? 0o010 : 0o001;
      if ((st.mode & bit) === 0) return d;
    }
    if (d === dirname(d)) return undefined;
  }
}

export interface AccountChoice {
  accounts: Partial<Record<ServiceKind, ServiceAccount>>;
  /** Why a service runs as root instead, one line each. */
  warnings: string[];
}

/**
 * Which account each service of a new lab in `labDir` runs as. Only root can
 * start a process as another account; a service whose account is missing, or
 * which could not reach the lab folder, runs as root and says why.
 */
export function chooseServiceAccounts(labDir: string, lookup = lookupAccount): AccountChoice {
  const choice: AccountChoice = { accounts: {}, warnings: [] };
  if (process.getuid?.() !== 0) return choice; // not root: every service runs as the user who runs the lab
  const parent = dirname(labDir);
  for (const [kind, name] of Object.entries(SERVICE_ACCOUNT_NAMES) as Array<[ServiceKind, string]>) {
    const account = lookup(name);
    if (!account) {
      choice.warnings.push(`${kind} runs as root: there is no user ${name} (apt-get install ${PACKAGE_OF[kind]} creates it)`);
      continue;
    }
    const blocking = firstBlockingFolder(parent, account);
    if (blocking) {
      choice.warnings.push(`${kind} runs as root: user ${name} cannot enter ${blocking} (chmod o+x ${blocking}, or put the lab under a folder others may enter, with --dir)`);
      continue;
    }
    choice.accounts[kind] = account;
  }
  return choice;
}

/** Gives a folder and everything in it to `account` (symlinks are changed, never followed). */
export function chownTree(path: string, account: ServiceAccount): void {
  const st = lstatSync(path);
  if (st.isSymbolicLink()) return;
  if (st.uid !== account.uid || st.gid !== account.gid) chownSync(path, account.uid, account.gid);
  if (st.isDirectory()) for (const entry of readdirSync(path)) chownTree(join(path, entry), account);
}
