import { existsSync, linkSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { z } from 'zod';
import { GamedayError } from '../core/errors.js';
import { formatDuration } from '../core/duration.js';
import { processAlive } from './runState.js';
import { locksDir } from './stateDir.js';

/** <stateDir>/locks/<encoded name>.json */
export interface LockRecord {
  name: string;
  /** The run id holding it. */
  holder: string;
  pid: number;
  hostname: string;
  startedAt: string;
  renewedAt: string;
  ttlMs: number;
  expiresAt: string;
  /** Random per acquisition, kept by renewals: a record with another epoch is someone else's take, even by the same run id and pid. */
  epoch?: string;
  /** The holder process's identity beyond its pid (boot id and start time): pid 1 in every container is not one process. */
  processStart?: string;
  /** Set when the file on disk is not a lock record (damaged, or written by hand): it protects nothing. */
  unreadable?: string;
}

const isoTime = z.string().refine((t) => !Number.isNaN(Date.parse(t)), 'not a time');
const lockRecordSchema = z.object({
  name: z.string(),
  holder: z.string(),
  pid: z.number().int(),
  hostname: z.string(),
  startedAt: isoTime,
  renewedAt: isoTime,
  ttlMs: z.number(),
  expiresAt: isoTime,
  epoch: z.string().optional(),
  processStart: z.string().optional(),
});

/**
 * A process's identity beyond its pid: this boot's id and the process's start
 * time in clock ticks since boot (/proc/<pid>/stat, field 22). A pid reused by
 * another process, or pid 1 of a later container, has another. Undefined
 * where /proc does not say.
 */
export function processStartOf(pid: number): string | undefined {
  try {
    const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${boot}/${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** The bounds of a lock's TTL: long enough to outlive a renewal round, short enough to be a date. */
export const LOCK_TTL_BOUNDS_MS = { min: 10_000, max: 7 * 86_400_000 };

export function checkLockTtl(ttlMs: number, input = '--lock-ttl'): number {
  if (!Number.isFinite(ttlMs) || ttlMs < LOCK_TTL_BOUNDS_MS.min || ttlMs > LOCK_TTL_BOUNDS_MS.max) {
    throw new GamedayError('BAD_LOCK_TTL', `a lock TTL must be between ${formatDuration(LOCK_TTL_BOUNDS_MS.min)} and ${formatDuration(LOCK_TTL_BOUNDS_MS.max)}`, input, 'e.g. --lock-ttl 10m (the holder renews it every third of it)');
  }
  return ttlMs;
}

export interface LockOptions {
  stateDir: string;
  runId: string;
  /** Runs whose locks this run inherits (its parent, the parent's parent, ...). */
  ancestors: string[];
  ttlMs: number;
  /** How long to wait for a held lock; 0 fails at once. */
  waitMs: number;
  pollMs?: number;
  signal?: AbortSignal;
  log: Logger;
}

export const DEFAULT_LOCK_TTL_MS = 10 * 60_000;

export function lockFile(stateDir: string, name: string): string {
  return join(locksDir(stateDir), `${encodeURIComponent(name).replace(/^\./, '%2E')}.json`);
}

/**
 * The record in a lock file, undefined when there is none. A half-written
 * record cannot happen (records appear by link/rename), so a file that is
 * not a whole record was damaged or written by hand: it comes back marked
 * `unreadable` and expired, and whoever takes it says so in the log.
 */
export function readLock(file: string): LockRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let why: string;
  try {
    const parsed = lockRecordSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    why = parsed.error.issues.map((i) => `${i.path.join('.') || 'record'}: ${i.message}`).join('; ');
  } catch {
    why = 'not JSON';
  }
  const name = decodeURIComponent(file.slice(file.lastIndexOf('/') + 1).replace(/\.json$/, ''));
  const epoch = new Date(0).toISOString();
  return { name, holder: '?', pid: -1, hostname: '?', startedAt: epoch, renewedAt: epoch, ttlMs: 0, expiresAt: epoch, unreadable: why };
}

/** Every lock file in the state folder (for status). */
export function listLocks(stateDir: string): LockRecord[] {
  const dir = locksDir(stateDir);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .map((f) => readLock(join(dir, f)))
    .filter((r): r is LockRecord => r !== undefined);
}

/** Why a lock record no longer protects anything, or undefined when it is live. */
export function staleReason(record: LockRecord, now = Date.now()): string | undefined {
  if (record.unreadable) return `the lock file is not a lock record (${record.unreadable}): treated as expired`;
  if (record.hostname === hostname() && !processAlive(record.pid)) return `holder pid ${record.pid} is gone`;
  if (record.hostname === hostname() && record.processStart && processStartOf(record.pid) !== record.processStart) {
    return `holder pid ${record.pid} is gone (that pid is another process now)`;
  }
  if (Date.parse(record.expiresAt) <= now) return `expired at ${record.expiresAt}`;
  return undefined;
}

/** Told when a lock is lost: taken by `by` (undefined: removed), or, with `why`, a renewal that failed. */
export type LostLock = (name: string, by: LockRecord | undefined, why?: string) => void;

type Attempt = { ok: true; inherited: boolean } | { ok: false; holder: LockRecord };

/**
 * The locks one run holds. Acquisition is atomic: a complete record is
 * written to a temporary file and hard-linked to the lock's name, which fails
 * when the name exists. A lock whose holder process is gone (same host) is
 * taken at once; any lock is taken once its TTL has expired. The holder
 * renews its locks every TTL/3. Locks held by an ancestor run are inherited.
 */
export class LockSet {
  private readonly owned = new Map<string, LockRecord>();
  private readonly inheritedNames = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private readonly dir: string;

  constructor(private readonly opts: LockOptions) {
    this.dir = locksDir(opts.stateDir);
    // Tests use short TTLs; users get the full bounds at the command line (checkLockTtl).
    if (!Number.isFinite(opts.ttlMs) || opts.ttlMs <= 0 || opts.ttlMs > LOCK_TTL_BOUNDS_MS.max) checkLockTtl(opts.ttlMs, 'lock TTL');
  }

  get names(): string[] {
    return [...this.owned.keys(), ...this.inheritedNames];
  }

  holds(name: string): boolean {
    return this.owned.has(name) || this.inheritedNames.has(name);
  }

  /** Takes every lock of `names` (all or none), waiting up to waitMs; returns the ones it newly took. */
  async acquire(names: string[]): Promise<string[]> {
    const wanted = [...new Set(names)].filter((n) => !this.holds(n)).sort();
    if (wanted.length === 0) return [];
    mkdirSync(this.dir, { recursive: true });
    const deadline = Date.now() + this.opts.waitMs;
    let waited = false;
    for (;;) {
      const taken: string[] = [];
      let blocked: LockRecord | undefined;
      for (const name of wanted) {
        const attempt = this.tryTake(name);
        if (!attempt.ok) {
          blocked = attempt.holder;
          break;
        }
        taken.push(name);
      }
      if (!blocked) return taken;
      this.release(taken); // never sit on some locks while waiting for others
      const left = deadline - Date.now();
      if (left <= 0 || this.opts.signal?.aborted) throw this.heldError(blocked, waited);
      if (!waited) this.opts.log.info({ lock: blocked.name, holder: blocked.holder }, `waiting for lock ${blocked.name} held by run ${blocked.holder}`);
      waited = true;
      try {
        await sleep(Math.min(this.opts.pollMs ?? 250, left), undefined, { signal: this.opts.signal });
      } catch {
        throw this.heldError(blocked, waited);
      }
    }
  }

  private heldError(holder: LockRecord, waited: boolean): GamedayError {
    return new GamedayError(
      'LOCK_HELD',
      `held by run ${holder.holder} (pid ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}, expires ${holder.expiresAt} unless renewed)`,
      `lock ${holder.name}`,
      waited
        ? `still held after waiting ${formatDuration(this.opts.waitMs)}; "gameday runbook status ${holder.holder}" shows that run`
        : `wait for it with --wait-lock 30m, or see "gameday runbook status ${holder.holder}"`,
    );
  }

  private record(name: string, taken?: LockRecord): LockRecord {
    const now = new Date();
    const start = processStartOf(process.pid);
    return {
      name,
      holder: this.opts.runId,
      pid: process.pid,
      hostname: hostname(),
      startedAt: taken?.startedAt ?? now.toISOString(),
      renewedAt: now.toISOString(),
      ttlMs: this.opts.ttlMs,
      expiresAt: new Date(now.getTime() + this.opts.ttlMs).toISOString(),
      epoch: taken?.epoch ?? randomBytes(8).toString('hex'),
      ...(start ? { processStart: start } : {}),
    };
  }

  private isMine(r: LockRecord): boolean {
    const mine = this.owned.get(r.name);
    return r.holder === this.opts.runId && r.pid === process.pid && r.hostname === hostname() && (!mine?.epoch || r.epoch === mine.epoch);
  }

  /**
   * The first lock this run owns that is not its own on disk any more (taken
   * over, removed, or renewed by someone else), or undefined: what the
   * journal asks before every append, so that a run that lost its lock
   * records nothing more as if it still held it.
   */
  lostLock(): string | undefined {
    for (const name of this.owned.keys()) {
      const current = readLock(lockFile(this.opts.stateDir, name));
      if (!current || !this.isMine(current)) return name;
    }
    return undefined;
  }

  private tryTake(name: string): Attempt {
    const file = lockFile(this.opts.stateDir, name);
    for (let round = 0; round < 3; round++) {
      const rec = this.record(name);
      const tmp = this.writeTemporary(rec);
      try {
        linkSync(tmp, file);
        this.owned.set(name, rec);
        return { ok: true, inherited: false };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      } finally {
        unlinkSync(tmp);
      }
      const current = readLock(file);
      if (!current) continue; // released meanwhile: try again
      if (this.opts.ancestors.includes(current.holder)) {
        this.inheritedNames.add(name);
        return { ok: true, inherited: true };
      }
      const stale = staleReason(current);
      if (!stale) return { ok: false, holder: current };
      if (this.displace(file, current)) {
        this.opts.log.warn({ lock: name, holder: current.holder, reason: stale }, `took over lock ${name}: ${stale}`);
      }
    }
    const holder = readLock(file);
    return holder ? { ok: false, holder } : { ok: false, holder: this.record(name) };
  }

  /** Moves a stale record out of the way, unless it changed since it was judged stale. */
  private displace(file: string, judged: LockRecord): boolean {
    const aside = `${file}.${randomBytes(6).toString('hex')}.stale`;
    try {
      renameSync(file, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw err;
    }
    const moved = readLock(aside);
    const same = moved && moved.holder === judged.holder && moved.pid === judged.pid && moved.renewedAt === judged.renewedAt;
    if (!same) {
      // Another process replaced it between our read and the rename: put its live record back.
      try {
        linkSync(aside, file);
      } catch {
        this.opts.log.error({ file }, 'lock race: a freshly taken lock was displaced and could not be restored');
      }
    }
    unlinkSync(aside);
    return Boolean(same);
  }

  /** A complete record in a temporary file of the locks folder, to be linked or renamed into place. */
  private writeTemporary(rec: LockRecord): string {
    const tmp = join(this.dir, `.${randomBytes(6).toString('hex')}.tmp`);
    try {
      writeFileSync(tmp, `${JSON.stringify(rec)}\n`, { mode: 0o600 });
      return tmp;
    } catch (err) {
      try {
        unlinkSync(tmp);
      } catch {
        // never created
      }
      throw new GamedayError('LOCK_WRITE_FAILED', `could not write a lock record (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); nothing was done`, this.dir, 'free space or fix the state folder, then try again');
    }
  }

  /** Renews owned locks every TTL/3; calls onLost when another run took one, or a renewal failed. */
  startRenewal(onLost: LostLock): void {
    this.stopRenewal();
    this.timer = setInterval(() => this.renew(onLost), Math.max(50, Math.floor(this.opts.ttlMs / 3)));
    this.timer.unref();
  }

  stopRenewal(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  renew(onLost: LostLock = () => {}): void {
    for (const [name, rec] of this.owned) {
      const file = lockFile(this.opts.stateDir, name);
      const current = readLock(file);
      if (!current || !this.isMine(current)) {
        this.owned.delete(name);
        onLost(name, current);
        continue;
      }
      const next = this.record(name, rec);
      try {
        renameSync(this.writeTemporary(next), file);
        this.owned.set(name, next);
      } catch (err) {
        // Not from a timer's throw: the run is told, and stops before its next step rather than act past its lock's TTL.
        const why = `could not be renewed (${(err as Error).message}); it expires at ${rec.expiresAt}`;
        this.opts.log.warn({ lock: name, err: (err as Error).message }, `lock ${name} ${why}`);
        onLost(name, current, why);
      }
    }
  }

  /** Releases the named locks this run owns (inherited ones stay with their holder). */
  release(names: string[]): void {
    for (const name of names) {
      this.inheritedNames.delete(name);
      if (!this.owned.has(name)) continue;
      this.owned.delete(name);
      const file = lockFile(this.opts.stateDir, name);
      const current = readLock(file);
      if (current && this.isMine(current)) {
        try {
          unlinkSync(file);
        } catch {
          // already gone
        }
      }
    }
  }

  releaseAll(): void {
    this.stopRenewal();
    this.release(this.names);
  }
}
