import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../../engine/runner.js';
import { lockFile, processStartOf, readLock, staleReason, type LockRecord } from '../../../engine/locks.js';
import { GamedayError } from '../../../core/errors.js';
import { effectsOf, toyEntry } from '../../fixtures/runbooks/toy.js';
import { engineOptions, events, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

/** A gate a toy step awaits before acting: holds a run in the middle of that step. */
function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

function plantLock(stateDir: string, name: string, over: Partial<LockRecord>): void {
  mkdirSync(join(stateDir, 'locks'), { recursive: true });
  const now = Date.now();
  const rec: LockRecord = {
    name,
    holder: '2026-01-01T00-00-00Z-dead',
    pid: process.pid,
    hostname: hostname(),
    startedAt: new Date(now - 60_000).toISOString(),
    renewedAt: new Date(now - 1000).toISOString(),
    ttlMs: 600_000,
    expiresAt: new Date(now + 600_000).toISOString(),
    ...over,
  };
  writeFileSync(lockFile(stateDir, name), JSON.stringify(rec));
}

const runDirs = (stateDir: string) => (existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : []);

describe('locks', () => {
  it('a second run fails at once on a held lock, naming the lock and the holder, and writes no run', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const g = gate();
    const first = startRun(toyEntry(), { dir }, engineOptions(stateDir, { env: { gates: { 'append-a': g.promise } } }));
    await sleep(100);
    const firstId = runDirs(stateDir)[0];
    const lock = readLock(lockFile(stateDir, 'runbook:toy'));
    expect(lock).toMatchObject({ holder: firstId, pid: process.pid, hostname: hostname() });

    const err = await startRun(toyEntry(), { dir }, engineOptions(stateDir)).catch((e) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect(err.code).toBe('LOCK_HELD');
    expect(err.input).toBe('lock runbook:toy');
    expect(err.message).toContain(firstId);
    expect(err.hint).toContain('--wait-lock');
    expect(runDirs(stateDir)).toEqual([firstId]);

    g.open();
    expect((await first).state).toBe('succeeded');
    expect(readdirSync(join(stateDir, 'locks'))).toEqual([]);
  });

  it('a second run asked to wait starts once the first is done, and never overlaps it', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const g = gate();
    const first = startRun(toyEntry(), { dir }, engineOptions(stateDir, { env: { gates: { 'append-a': g.promise } } }));
    await sleep(100);
    const second = startRun(toyEntry(), { dir }, engineOptions(stateDir, { lockWaitMs: 10_000, lockPollMs: 20 }));
    await sleep(300);
    expect(runDirs(stateDir)).toHaveLength(1); // still waiting
    g.open();
    const [a, b] = await Promise.all([first, second]);
    expect([a.state, b.state]).toEqual(['succeeded', 'succeeded']);
    const aEnd = events(stateDir, a.runId).at(-1)!.time;
    const bStart = events(stateDir, b.runId)[0].time;
    expect(bStart >= aEnd).toBe(true);
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'ran append-c', 'ran append-a', 'ran append-b', 'ran append-c']);
  });

  it('gives up waiting after --wait-lock', async () => {
    const stateDir = tmp.make();
    plantLock(stateDir, 'runbook:toy', {});
    const started = Date.now();
    const err = await startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir, { lockWaitMs: 300, lockPollMs: 50 })).catch((e) => e);
    expect(err.code).toBe('LOCK_HELD');
    expect(err.hint).toMatch(/still held after waiting 300ms/);
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('takes at once a lock whose holder process is gone (same host), before its TTL', async () => {
    const stateDir = tmp.make();
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    plantLock(stateDir, 'runbook:toy', { pid: dead });
    const r = await startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir));
    expect(r.state).toBe('succeeded');
    expect(existsSync(lockFile(stateDir, 'runbook:toy'))).toBe(false);
  });

  it('takes a lock of another host only after its TTL expired', async () => {
    const stateDir = tmp.make();
    plantLock(stateDir, 'runbook:toy', { hostname: 'elsewhere', pid: 1 });
    await expect(startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir))).rejects.toMatchObject({ code: 'LOCK_HELD' });
    plantLock(stateDir, 'runbook:toy', { hostname: 'elsewhere', pid: 1, expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir))).state).toBe('succeeded');
  });

  it('the holder renews its TTL while it runs', async () => {
    const stateDir = tmp.make();
    const g = gate();
    const run = startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir, { lockTtlMs: 300, env: { gates: { 'append-a': g.promise } } }));
    await sleep(100);
    const before = readLock(lockFile(stateDir, 'runbook:toy'))!;
    await sleep(700); // more than twice the TTL
    const after = readLock(lockFile(stateDir, 'runbook:toy'))!;
    expect(after.holder).toBe(before.holder);
    expect(after.startedAt).toBe(before.startedAt);
    expect(Date.parse(after.expiresAt)).toBeGreaterThan(Date.now());
    expect(after.renewedAt > before.renewedAt).toBe(true);
    g.open();
    expect((await run).state).toBe('succeeded');
  });

  it('holds step locks only during their step; a nested run inherits its parent\'s locks', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    // The child takes "runbook:toy" (held by the parent) and "host:toy"; it inherits the first.
    const parent = await startRun(toyEntry(), { dir, child: true, stepLock: 'host:b' }, engineOptions(stateDir));
    expect(parent.state).toBe('succeeded');
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'ran append-c', 'ran child-append']);
    const childId = events(stateDir, parent.runId, 'append-c').find((e) => e.event === 'succeeded')!.data!.result as { child: string };
    const childStart = events(stateDir, childId.child)[0].data!;
    expect(childStart).toMatchObject({ parentRunId: parent.runId, runbook: 'toy-child' });
    expect(childStart.locks).toEqual(expect.arrayContaining(['runbook:toy', `run:${childId.child}`]));
    const bIntent = events(stateDir, parent.runId, 'append-b').find((e) => e.event === 'intent')!;
    expect(bIntent.data?.locks).toEqual(['host:b']);
    expect(readdirSync(join(stateDir, 'locks'))).toEqual([]);
  });

  it('a run started with a parent run id (GAMEDAY_PARENT_RUN) inherits the parent\'s locks; others do not', async () => {
    const stateDir = tmp.make();
    const g = gate();
    const parent = startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir, { env: { gates: { 'append-a': g.promise } } }));
    await sleep(100);
    const parentId = runDirs(stateDir)[0];
    const nested = await startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir, { parentRunId: parentId }));
    expect(nested.state).toBe('succeeded');
    // The nested run did not release what it inherited.
    expect(readLock(lockFile(stateDir, 'runbook:toy'))?.holder).toBe(parentId);
    await expect(startRun(toyEntry(), { dir: tmp.make() }, engineOptions(stateDir))).rejects.toMatchObject({ code: 'LOCK_HELD' });
    g.open();
    expect((await parent).state).toBe('succeeded');
  });
});

describe('a lock whose holder is not who its record says', () => {
  it('is stale when its pid now belongs to another process (pid 1 of a later container; before: alive until its TTL)', () => {
    const now = Date.now();
    const rec: LockRecord = { name: 'runbook:x', holder: 'r', pid: process.pid, hostname: hostname(), startedAt: new Date(now).toISOString(), renewedAt: new Date(now).toISOString(), ttlMs: 600_000, expiresAt: new Date(now + 600_000).toISOString() };
    expect(staleReason({ ...rec, processStart: processStartOf(process.pid) })).toBeUndefined();
    expect(staleReason({ ...rec, processStart: 'another-boot/12345' })).toBe(`holder pid ${process.pid} is gone (that pid is another process now)`);
  });

  it('a run whose lock was taken over records nothing more: the journal refuses its next append, and the step after it never runs', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const held = gate();
    const run = startRun(toyEntry(), { dir }, engineOptions(stateDir, { env: { gates: { 'append-b': held.promise } } }));
    await waitFor(() => runDirs(stateDir).length === 1 && events(stateDir, runDirs(stateDir)[0], 'append-b').some((e) => e.event === 'intent'));
    // Another holder's take of the same lock: same run id and pid (as a copy of this process would write), another epoch.
    const file = lockFile(stateDir, 'runbook:toy');
    const mine = readLock(file)!;
    writeFileSync(file, JSON.stringify({ ...mine, epoch: 'someone-else' }));
    held.open();
    const outcome = await run.catch((e: unknown) => e);
    expect(outcome instanceof GamedayError ? outcome.code : (outcome as { state?: string }).state).not.toBe('succeeded');
    expect(effectsOf(dir)).not.toContain('ran append-c');
    const after = events(stateDir, runDirs(stateDir)[0]).map((e) => `${e.stepId} ${e.event}`);
    expect(after).not.toContain('append-b succeeded');
  });
});

async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  if (!cond()) throw new Error('timed out');
}
