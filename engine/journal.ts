import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, truncateSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { GamedayError } from '../core/errors.js';
import type { JournalEvent } from './types.js';
import { journalFile, runDir } from './stateDir.js';

export const journalEventSchema = z.object({
  time: z.string(),
  runId: z.string(),
  stepId: z.string(),
  event: z.enum(['intent', 'succeeded', 'failed', 'skipped', 'approval', 'note']),
  data: z.record(z.string(), z.unknown()).optional(),
});

/** JSON for the journal: bigints as strings, errors as their message, cycles as "[unserializable]". */
export function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(
      JSON.stringify(value, (_k, v: unknown) => {
        if (typeof v === 'bigint') return v.toString();
        if (v instanceof Error) return { error: v.message };
        return v;
      }) ?? 'null',
    );
  } catch {
    return '[unserializable]';
  }
}

/**
 * Appends events to one run's journal.jsonl, one JSON object a line. Every
 * line is written with one write(2) and fsync'd before `write` returns, so an
 * `intent` is on disk before the action it announces starts.
 */
export class JournalWriter {
  private constructor(
    readonly runId: string,
    readonly file: string,
    private fd: number,
  ) {}

  /** A new run's journal: the run folder must not exist yet (run ids are unique). */
  static create(stateDir: string, runId: string): JournalWriter {
    const dir = runDir(stateDir, runId);
    mkdirSync(dirname(dir), { recursive: true });
    mkdirSync(dir); // throws EEXIST on a clash: the caller picks another id
    const file = journalFile(stateDir, runId);
    const fd = openSync(file, 'wx', 0o600);
    syncDir(dir);
    return new JournalWriter(runId, file, fd);
  }

  /**
   * An existing run's journal, to append to (resume). A torn last line (the
   * writer died inside write(2), so the step it announced never started) is cut off.
   */
  static append(stateDir: string, runId: string): JournalWriter {
    const file = journalFile(stateDir, runId);
    const text = readFileSync(file);
    if (text.length > 0 && text[text.length - 1] !== 0x0a) truncateSync(file, text.lastIndexOf(0x0a) + 1);
    const fd = openSync(file, 'a', 0o600);
    return new JournalWriter(runId, file, fd);
  }

  /**
   * Appends one event. A line is written whole or not at all: a short write
   * or an error (a full disk) cuts the file back to where the line began and
   * throws JOURNAL_WRITE_FAILED, so the journal never holds a torn line that
   * a later write would bury in the middle of the file.
   */
  /** Asked before every append (the run's locks are still its own); throws to refuse the append. */
  guard: (() => void) | undefined;

  write(stepId: string, event: JournalEvent['event'], data?: Record<string, unknown>, opts: { unguarded?: boolean } = {}): JournalEvent {
    if (!opts.unguarded) this.guard?.();
    const entry: JournalEvent = { time: new Date().toISOString(), runId: this.runId, stepId, event };
    if (data !== undefined) entry.data = jsonSafe(data) as Record<string, unknown>;
    const line = Buffer.from(`${JSON.stringify(entry)}\n`);
    const before = fstatSync(this.fd).size;
    let written = 0;
    try {
      written = writeSync(this.fd, line);
      if (written === line.length) fsyncSync(this.fd);
    } catch (err) {
      this.cutBack(before);
      throw this.failure((err as NodeJS.ErrnoException).code ?? (err as Error).message);
    }
    if (written !== line.length) {
      this.cutBack(before);
      throw this.failure(`short write (${written} of ${line.length} bytes)`);
    }
    return entry;
  }

  private cutBack(size: number): void {
    try {
      ftruncateSync(this.fd, size);
    } catch {
      // nothing more to do: the reader ignores a torn last line
    }
  }

  private failure(why: string): GamedayError {
    return new GamedayError(
      'JOURNAL_WRITE_FAILED',
      `could not write the run's journal (${why}); the run stopped here and its journal ends at its last whole event`,
      this.file,
      `free space or fix the state folder, then: gameday runbook resume ${this.runId}`,
    );
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some file systems refuse fsync on a directory; the journal file itself is still synced.
  }
}

/** Every event of a run, oldest first. A torn last line (a crash mid-write) is ignored. */
export function readJournal(stateDir: string, runId: string): JournalEvent[] {
  const file = journalFile(stateDir, runId);
  if (!existsSync(file)) {
    throw new GamedayError('RUN_NOT_FOUND', 'no such run', runId, `"gameday runbook status" lists the runs in ${dirname(dirname(file))}`);
  }
  const lines = readFileSync(file, 'utf8').split('\n');
  const events: JournalEvent[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (i >= lines.length - 2) return; // the torn last line of a crashed writer
      throw new GamedayError('JOURNAL_CORRUPT', `line ${i + 1} is not JSON`, file, 'the journal is append-only: restore it or start a new run');
    }
    const ok = journalEventSchema.safeParse(parsed);
    if (!ok.success) throw new GamedayError('JOURNAL_CORRUPT', `line ${i + 1} is not a journal event`, file, 'the journal is append-only: restore it or start a new run');
    events.push(ok.data as JournalEvent);
  });
  return events;
}

/** How a `journaled` piece of work ended: `act` returned its result (journaled as `ended` said), or threw the error (journaled as `failed`). */
export type JournaledOutcome<T> = { ok: true; result: T } | { ok: false; error: unknown };

/** The outcome records of a `journaled` piece of work, when the defaults do not fit. */
export interface JournaledRecords<T> {
  /** The event and data for a result; by default `succeeded` with `{ result }`. A result may be journaled as `failed` (a nested run that failed). */
  ended?(result: T): { event: 'succeeded' | 'failed'; data: Record<string, unknown> };
  /** The data of the `failed` event for an error; by default `{ error: <its message> }`. Called before that event is written, so a caller may note the failure in its own records first. */
  failed?(err: unknown): Record<string, unknown>;
}

/**
 * The journal's step protocol, for work that runs outside the step runner
 * (a game day's faults, undos and responses): an `intent` written, and
 * fsync'd, before `act` starts, then its outcome, `succeeded` or `failed`.
 * As in the step runner, a failure to journal the outcome is a failure of
 * the work. The outcome is returned, never thrown; a journal that cannot
 * take the intent or the `failed` record throws JOURNAL_WRITE_FAILED.
 */
export async function journaled<T>(journal: JournalWriter, stepId: string, intent: Record<string, unknown>, act: () => Promise<T>, records: JournaledRecords<T> = {}): Promise<JournaledOutcome<T>> {
  journal.write(stepId, 'intent', intent);
  try {
    const result = await act();
    const end = records.ended?.(result) ?? { event: 'succeeded' as const, data: { result } };
    journal.write(stepId, end.event, end.data);
    return { ok: true, result };
  } catch (err) {
    journal.write(stepId, 'failed', records.failed?.(err) ?? { error: (err as Error).message });
    return { ok: false, error: err };
  }
}
