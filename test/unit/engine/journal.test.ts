import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Records, in order, journal writes, fsyncs and the toy's effects (appendFileSync).
const trace = vi.hoisted(() => [] as string[]);
vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const writeSync = ((fd: number, data: unknown, ...rest: unknown[]) => {
    trace.push(`write ${String(data).trim()}`);
    return (fs.writeSync as (...a: unknown[]) => number)(fd, data, ...rest);
  }) as typeof fs.writeSync;
  const fsyncSync = (fd: number) => {
    trace.push('fsync');
    return fs.fsyncSync(fd);
  };
  const appendFileSync = ((file: string, data: string, ...rest: unknown[]) => {
    trace.push(`effect ${String(data).trim()}`);
    return (fs.appendFileSync as (...a: unknown[]) => void)(file, data, ...rest);
  }) as typeof fs.appendFileSync;
  return { ...fs, default: { ...fs, writeSync, fsyncSync, appendFileSync }, writeSync, fsyncSync, appendFileSync };
});

const { startRun } = await import('../../../engine/runner.js');
const { planRun } = await import('../../../engine/plan.js');
const { JournalWriter, readJournal } = await import('../../../engine/journal.js');
const { isRunId, newRunId } = await import('../../../engine/runId.js');
const { journalFile } = await import('../../../engine/stateDir.js');
const { effectsOf, toyEntry, toyInventory } = await import('../../fixtures/runbooks/toy.js');
const { engineOptions, silentLog, tempDirs } = await import('../../fixtures/runbooks/helpers.js');

const tmp = tempDirs();
afterEach(() => {
  tmp.cleanup();
  trace.length = 0;
});

describe('journal', () => {
  it('has one JSON object a line: time, runId, stepId, event, data; a start record and an end record', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const r = await startRun(toyEntry(), { dir }, engineOptions(stateDir));
    expect(isRunId(r.runId)).toBe(true);
    const lines = readFileSync(journalFile(stateDir, r.runId), 'utf8').trimEnd().split('\n');
    const events = lines.map((l) => JSON.parse(l));
    for (const e of events) {
      expect(Object.keys(e).sort()).toEqual(['data', 'event', 'runId', 'stepId', 'time'].filter((k) => k !== 'data' || 'data' in e));
      expect(e.runId).toBe(r.runId);
      expect(new Date(e.time).toISOString()).toBe(e.time);
      expect(['intent', 'succeeded', 'failed', 'skipped', 'approval', 'note']).toContain(e.event);
    }
    expect(events[0]).toMatchObject({
      stepId: 'run',
      event: 'note',
      data: { type: 'started', runbook: 'toy', params: { dir }, plan: { dir }, pid: process.pid },
    });
    expect(events[0].data.runbookVersion).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(events[0].data.steps.map((s: { id: string }) => s.id)).toEqual(['count', 'append-a', 'a-present', 'append-b', 'append-c', 'done']);
    expect(events.at(-1)).toMatchObject({ stepId: 'run', event: 'note', data: { type: 'finished', state: 'succeeded', leftDegraded: [] } });
    // Every step: intent, then its outcome.
    for (const id of ['count', 'append-a', 'a-present', 'append-b', 'append-c', 'done']) {
      const kinds = events.filter((e) => e.stepId === id && e.event !== 'note').map((e) => e.event);
      expect(kinds).toEqual(['intent', 'succeeded']);
    }
    expect(events.find((e) => e.stepId === 'append-a' && e.event === 'intent').data).toMatchObject({ kind: 'action', semantics: 'idempotent', target: join(dir, 'effects.log') });
    expect(events.find((e) => e.stepId === 'a-present' && e.event === 'succeeded').data.result).toMatchObject({ samples: 2 });
  });

  it('writes and fsyncs the intent before the action acts, and the outcome after', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    await startRun(toyEntry(), { dir }, engineOptions(stateDir));
    const relevant = trace.filter((t) => t === 'fsync' || t.startsWith('effect ') || t.includes('"stepId":"append-a"'));
    const i = relevant.findIndex((t) => t.includes('"event":"intent"'));
    expect(relevant.slice(i, i + 5).map((t) => (t.startsWith('write') ? `write ${JSON.parse(t.slice(6)).event}` : t))).toEqual([
      'write intent',
      'fsync',
      'effect ran append-a',
      'write succeeded',
      'fsync',
    ]);
  });

  it('a run id sorts by start time', () => {
    const a = newRunId(new Date('2026-11-24T20:01:02.345Z'));
    expect(a).toMatch(/^2026-11-24T20-01-02Z-[0-9a-f]{4}$/);
    expect(newRunId(new Date('2026-11-24T20:01:03Z')) > a).toBe(true);
  });

  it('cuts a torn last line (a writer killed inside write) before appending', () => {
    const stateDir = tmp.make();
    const w = JournalWriter.create(stateDir, '2026-11-24T20-01-02Z-abcd');
    w.write('run', 'note', { type: 'started' });
    w.close();
    const file = journalFile(stateDir, '2026-11-24T20-01-02Z-abcd');
    writeFileSync(file, `${readFileSync(file, 'utf8')}{"time":"2026-`, { flag: 'w' });
    expect(readJournal(stateDir, '2026-11-24T20-01-02Z-abcd')).toHaveLength(1);
    const w2 = JournalWriter.append(stateDir, '2026-11-24T20-01-02Z-abcd');
    w2.write('run', 'note', { type: 'resumed' });
    w2.close();
    expect(readJournal(stateDir, '2026-11-24T20-01-02Z-abcd').map((e) => e.data?.type)).toEqual(['started', 'resumed']);
  });
});

describe('plan (dry run)', () => {
  it('describes every step, acts on nothing and writes nothing', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const view = await planRun(toyEntry(), { dir, approve: true, stepLock: 'host:b' }, { inventory: toyInventory, env: {}, log: silentLog });
    expect(view.steps.map((s) => `${s.kind} ${s.id}`)).toEqual(['probe count', 'action append-a', 'wait-for a-present', 'approval approve', 'action append-b', 'action append-c', 'notify done']);
    expect(view.steps[1]).toMatchObject({ semantics: 'idempotent', target: join(dir, 'effects.log'), inputs: { line: 'ran append-a' }, consequence: 'one more line' });
    expect(view.steps[2]).toMatchObject({ what: 'line a in effects.log', intervalMs: 20, timeoutMs: 2000, consecutive: 2 });
    expect(view.steps[3].prompt).toBe('Append b and c?');
    expect(view.steps[4]).toMatchObject({ compensate: true, group: 'bc', locks: ['host:b'] });
    expect(view.locks).toEqual(['runbook:toy']);
    expect(effectsOf(dir)).toEqual([]);
    expect(existsSync(join(stateDir, 'runs'))).toBe(false);
    expect(trace.filter((t) => t.startsWith('write') || t.startsWith('effect'))).toEqual([]);
  });
});
