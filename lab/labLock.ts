import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GamedayError } from '../core/errors.js';

interface Holder {
  pid: number;
  what: string;
  since: string;
}

/** Beside the lab folder, not in it: `lab down` removes the folder while it holds the lock. */
export function labLockFile(dir: string): string {
  return `${resolve(dir)}.lock`;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolder(file: string): Holder | undefined {
  try {
    const h = JSON.parse(readFileSync(file, 'utf8')) as Partial<Holder>;
    return typeof h.pid === 'number' ? { pid: h.pid, what: String(h.what), since: String(h.since) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One lab-wide lock around what starts, stops or powers lab processes (up,
 * down, power-off, power-on, a runbook's reboot), so that two of them never
 * start a second mariadbd on one datadir or overwrite each other's process
 * records. A holder whose process is gone leaves a lock that the next taker
 * removes. Waits up to `waitMs` for a live holder, then refuses.
 */
export async function withLabLock<T>(dir: string, what: string, fn: () => Promise<T>, waitMs = 180_000): Promise<T> {
  const file = labLockFile(dir);
  mkdirSync(dirname(file), { recursive: true });
  const deadline = Date.now() + waitMs;
  for (;;) {
    // A complete record, hard-linked to the lock's name (which fails if it exists): another taker
    // never reads a lock file still empty, which it would take for a dead holder's and remove.
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify({ pid: process.pid, what, since: new Date().toISOString() } satisfies Holder), { mode: 0o600 });
    try {
      linkSync(tmp, file);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    } finally {
      unlinkSync(tmp);
    }
    const holder = readHolder(file);
    if (!holder || !alive(holder.pid)) {
      // Its holder died (or the file is not ours to read): take it over.
      try {
        unlinkSync(file);
      } catch {
        // another taker removed it first
      }
      continue;
    }
    if (Date.now() > deadline) {
      throw new GamedayError('LAB_BUSY', `the lab is busy: ${holder.what} (pid ${holder.pid}, since ${holder.since})`, dir, 'wait for it to finish, then try again');
    }
    await sleep(200);
  }
  try {
    return await fn();
  } finally {
    if (readHolder(file)?.pid === process.pid) unlinkSync(file);
  }
}
