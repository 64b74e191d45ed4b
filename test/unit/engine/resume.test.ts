import { copyFileSync, existsSync, appendFileSync, writeFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resumeRun, startRun } from '../../../engine/runner.js';
import { GamedayError } from '../../../core/errors.js';
import { effectsOf, toyEntry, toyLookup, toySourceFile } from '../../fixtures/runbooks/toy.js';
import { engineOptions, events, spawnToy, tempDirs, waitUntil } from '../../fixtures/runbooks/helpers.js';
import { runDir } from '../../../engine/stateDir.js';
import { loadRun } from '../../../engine/runs.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

const count = (lines: string[], line: string) => lines.filter((l) => l === line).length;

/** Starts the toy in a child, waits until append-a has acted and its intent is on disk, then kill -9. */
async function killMidAction(mode: 'idempotent' | 'at-most-once') {
  const stateDir = tmp.make();
  const dir = tmp.make();
  const child = spawnToy(stateDir, dir, mode, { TOY_SLEEP_STEP: 'append-a', TOY_SLEEP_MS: '60000' });
  let runId = '';
  try {
    await waitUntil('append-a acting', () => {
      const runs = existsSync(join(stateDir, 'runs')) ? readdirSync(join(stateDir, 'runs')) : [];
      if (runs.length === 0) return false;
      runId = runs[0];
      return effectsOf(dir).includes('ran append-a');
    });
    // The intent was on disk before the action acted.
    expect(events(stateDir, runId, 'append-a').map((e) => e.event)).toEqual(['intent']);
  } finally {
    child.kill('SIGKILL');
  }
  const exit = await child.exited;
  expect(exit.signal).toBe('SIGKILL');
  return { stateDir, dir, runId };
}

describe('resume after kill -9 in the middle of an action', () => {
  it('re-runs an idempotent action and finishes; steps that succeeded are not re-run', async () => {
    const { stateDir, dir, runId } = await killMidAction('idempotent');
    expect(loadRun(stateDir, runId).state).toBe('crashed');
    const result = await resumeRun(runId, toyLookup, engineOptions(stateDir));
    expect(result.state).toBe('succeeded');
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-a', 'ran append-b', 'ran append-c']);
    expect(events(stateDir, runId, 'count').filter((e) => e.event === 'intent')).toHaveLength(1);
    const a = events(stateDir, runId, 'append-a').map((e) => (e.event === 'note' ? `note ${e.data?.type}` : e.event));
    expect(a).toEqual(['intent', 'note re-run', 'intent', 'succeeded']);
    const run = events(stateDir, runId, 'run').map((e) => e.data?.type);
    expect(run).toEqual(['started', 'resumed', 'finished']);
  }, 30_000);

  it('stops and asks for an at-most-once action; --assume-done skips it, so it ran exactly once', async () => {
    const { stateDir, dir, runId } = await killMidAction('at-most-once');
    const err = await resumeRun(runId, toyLookup, engineOptions(stateDir)).catch((e) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect(err.code).toBe('UNSURE_ACTION');
    expect(err.input).toBe(`run ${runId}, step append-a`);
    expect(err.hint).toContain('--assume-done append-a');
    expect(err.hint).toContain('--retry append-a');
    // Refusing wrote nothing and ran nothing.
    expect(events(stateDir, runId).map((e) => `${e.stepId} ${e.data?.type ?? e.event}`)).toEqual(['run started', 'count intent', 'count succeeded', 'append-a intent']);

    const result = await resumeRun(runId, toyLookup, { ...engineOptions(stateDir), assumeDone: ['append-a'] });
    expect(result.state).toBe('succeeded');
    expect(count(effectsOf(dir), 'ran append-a')).toBe(1);
    const a = events(stateDir, runId, 'append-a');
    expect(a.map((e) => e.event)).toEqual(['intent', 'skipped']);
    expect(a[1].data?.reason).toMatch(/--assume-done/);
  }, 30_000);

  it('--retry runs an at-most-once action again when the operator says it did not act', async () => {
    const { stateDir, dir, runId } = await killMidAction('at-most-once');
    const result = await resumeRun(runId, toyLookup, { ...engineOptions(stateDir), retry: ['append-a'] });
    expect(result.state).toBe('succeeded');
    expect(count(effectsOf(dir), 'ran append-a')).toBe(2);
    expect(events(stateDir, runId, 'append-a').map((e) => (e.event === 'note' ? `note ${e.data?.type}` : e.event))).toEqual(['intent', 'note retry', 'intent', 'succeeded']);
  }, 30_000);
});

describe('stop on SIGTERM', () => {
  it('finishes the current step, journals the stop, exits 130, and resumes at the next step', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const child = spawnToy(stateDir, dir, 'at-most-once', { TOY_SLEEP_STEP: 'append-a', TOY_SLEEP_MS: '1500' });
    await waitUntil('append-a acting', () => effectsOf(dir).includes('ran append-a'));
    child.kill('SIGTERM');
    const exit = await child.exited;
    expect(exit.code).toBe(130);
    const { runId, state } = JSON.parse(exit.stdout);
    expect(state).toBe('stopped');
    const all = events(stateDir, runId);
    expect(events(stateDir, runId, 'append-a').map((e) => e.event)).toEqual(['intent', 'succeeded']);
    expect(all.find((e) => e.data?.type === 'stopping')?.data?.reason).toBe('SIGTERM received');
    expect(all.at(-1)?.data).toMatchObject({ type: 'finished', state: 'stopped' });
    expect(existsSync(join(stateDir, 'locks')) ? readdirSync(join(stateDir, 'locks')) : []).toEqual([]);

    const result = await resumeRun(runId, toyLookup, engineOptions(stateDir));
    expect(result.state).toBe('succeeded');
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'ran append-c']);
  }, 30_000);
});

describe('resume of a changed runbook', () => {
  it('is refused unless allowChanged, and the journal records the change', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const src = join(tmp.make(), 'toy.ts');
    copyFileSync(toySourceFile, src);
    const entry = toyEntry(src);
    const first = await startRun(entry, { dir, approve: true }, engineOptions(stateDir));
    expect(first.state).toBe('waiting-approval');
    appendFileSync(src, '\n// changed\n');
    const lookup = () => entry;

    const err = await resumeRun(first.runId, lookup, engineOptions(stateDir, { yes: true })).catch((e) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect(err.code).toBe('RUNBOOK_CHANGED');
    expect(err.hint).toContain('--allow-changed');
    expect(effectsOf(dir)).toEqual(['ran append-a']);

    const result = await resumeRun(first.runId, lookup, { ...engineOptions(stateDir, { yes: true }), allowChanged: true });
    expect(result.state).toBe('succeeded');
    const resumed = events(stateDir, first.runId, 'run').find((e) => e.data?.type === 'resumed');
    expect(resumed?.data).toMatchObject({ changed: true });
    expect(resumed?.data?.previousVersion).not.toBe(resumed?.data?.runbookVersion);
  });
});

describe('failure, compensation and resume', () => {
  it('undoes the completed actions of the failing step\'s group, then resume starts again at the first of them', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    writeFileSync(join(dir, 'fail-append-c'), '');
    const first = await startRun(toyEntry(), { dir }, engineOptions(stateDir));
    expect(first.state).toBe('failed');
    expect(first.failedStep).toMatchObject({ id: 'append-c' });
    expect(first.failedStep?.error).toMatch(/append-c fails/);
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'undo append-b']);
    expect(events(stateDir, first.runId, 'append-b').map((e) => e.data?.type ?? e.event)).toEqual(['intent', 'note', 'succeeded', 'compensating', 'compensated']);
    expect(first.run.steps.find((s) => s.id === 'append-b')?.status).toBe('compensated');
    // append-b noted "degraded" and never cleared it: the failed run says so.
    expect(first.degraded).toEqual(['b is half done']);

    rmSync(join(dir, 'fail-append-c'));
    const second = await resumeRun(first.runId, toyLookup, engineOptions(stateDir));
    expect(second.state).toBe('succeeded');
    expect(effectsOf(dir)).toEqual(['ran append-a', 'ran append-b', 'undo append-b', 'ran append-b', 'ran append-c']);
    expect(second.degraded).toEqual([]);
    expect(second.run.steps.map((s) => s.status)).toEqual(Array(6).fill('succeeded'));
  });

  it('a failed at-most-once action is not retried without the operator\'s decision', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    writeFileSync(join(dir, 'fail-append-a'), '');
    const first = await startRun(toyEntry(), { dir, mode: 'at-most-once' }, engineOptions(stateDir));
    expect(first.state).toBe('failed');
    rmSync(join(dir, 'fail-append-a'));
    await expect(resumeRun(first.runId, toyLookup, engineOptions(stateDir))).rejects.toMatchObject({ code: 'UNSURE_ACTION' });
    const second = await resumeRun(first.runId, toyLookup, { ...engineOptions(stateDir), retry: ['append-a'] });
    expect(second.state).toBe('succeeded');
    expect(count(effectsOf(dir), 'ran append-a')).toBe(1);
  });

  it('refuses to resume a run that succeeded, an unknown run and an unknown step decision', async () => {
    const stateDir = tmp.make();
    const dir = tmp.make();
    const done = await startRun(toyEntry(), { dir }, engineOptions(stateDir));
    expect(done.state).toBe('succeeded');
    await expect(resumeRun(done.runId, toyLookup, engineOptions(stateDir))).rejects.toMatchObject({ code: 'RUN_FINISHED' });
    await expect(resumeRun('2026-01-01T00-00-00Z-0000', toyLookup, engineOptions(stateDir))).rejects.toMatchObject({ code: 'RUN_NOT_FOUND' });
    writeFileSync(join(dir, 'fail-append-c'), '');
    const failed = await startRun(toyEntry(), { dir }, engineOptions(stateDir));
    await expect(resumeRun(failed.runId, toyLookup, { ...engineOptions(stateDir), retry: ['nope'] })).rejects.toMatchObject({ code: 'UNKNOWN_STEP', input: '--retry' });
    expect(existsSync(runDir(stateDir, failed.runId))).toBe(true);
  });
});

describe('two resumers of one run', () => {
  it('the one that waited for the lock reads the journal again and does nothing to a run the other finished (before: it ran the steps again)', async () => {
    const { stateDir, dir, runId } = await killMidAction('idempotent');
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Both read the journal while the run is still crashed; the second waits for the first's lock.
    const first = resumeRun(runId, toyLookup, engineOptions(stateDir, { env: { gates: { 'append-b': gate } } }));
    const second = resumeRun(runId, toyLookup, engineOptions(stateDir, { lockWaitMs: 10_000, lockPollMs: 20 })).catch((e: unknown) => e);
    await waitUntil('the first resumer holds append-b', () => events(stateDir, runId, 'append-b').some((e) => e.event === 'intent'));
    release();
    expect((await first).state).toBe('succeeded');
    const err = await second;
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).code).toBe('RUN_FINISHED');
    expect(count(effectsOf(dir), 'ran append-b')).toBe(1);
    expect(count(effectsOf(dir), 'ran append-c')).toBe(1);
  }, 30_000);
});

describe('a resume that refuses', () => {
  it('tells the notifier why before it ends (before: the unattended job refused in silence, every night)', async () => {
    const { stateDir, runId } = await killMidAction('at-most-once');
    const sent: string[] = [];
    const err = await resumeRun(runId, toyLookup, engineOptions(stateDir, { notifier: { send: async (t) => void sent.push(t) } })).catch((e: unknown) => e);
    expect((err as GamedayError).code).toBe('UNSURE_ACTION');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toContain(`gameday resume of run ${runId} refused, nothing was done: error UNSURE_ACTION`);
    expect(sent[0]).toContain('--assume-done append-a');
  }, 30_000);
});
