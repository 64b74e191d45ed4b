import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startRun } from '../../../engine/runner.js';
import { slackNotifier } from '../../../drivers/notify/slack.js';
import { toyEntry } from '../../fixtures/runbooks/toy.js';
import { engineOptions, silentLog, tempDirs } from '../../fixtures/runbooks/helpers.js';
import { slackReceiver } from '../../fixtures/runbooks/slackReceiver.js';

const tmp = tempDirs();
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  tmp.cleanup();
  for (const c of closers.splice(0)) await c();
});

async function receiver() {
  const rx = await slackReceiver();
  closers.push(rx.close);
  return { rx, notifier: slackNotifier({ webhookUrl: rx.url, log: silentLog }) };
}

describe('run notifications to a Slack webhook', () => {
  it('a run that succeeds: started, the runbook\'s own notify step, finished', async () => {
    const { rx, notifier } = await receiver();
    const dir = tmp.make();
    const r = await startRun(toyEntry(), { dir }, engineOptions(tmp.make(), { notifier }));
    const texts = rx.texts();
    expect(texts).toHaveLength(3);
    expect(texts[0]).toMatch(new RegExp(`^:arrow_forward: gameday toy started \\(run ${r.runId}, 6 steps\\)$`));
    expect(texts[1]).toBe(`toy done in ${dir}`);
    expect(texts[2]).toMatch(/^:white_check_mark: gameday toy succeeded in .+ \(run .+\)$/);
  });

  it('a failing run left degraded: started, step failed, finished (failed), left degraded', async () => {
    const { rx, notifier } = await receiver();
    const dir = tmp.make();
    writeFileSync(join(dir, 'fail-append-c'), '');
    const r = await startRun(toyEntry(), { dir }, engineOptions(tmp.make(), { notifier }));
    expect(r.state).toBe('failed');
    const texts = rx.texts();
    expect(texts.map((t) => t.split(' ')[0])).toEqual([':arrow_forward:', ':x:', ':x:', ':warning:']);
    expect(texts[1]).toContain('step append-c "Append c" failed: append-c fails');
    expect(texts[2]).toContain('gameday toy failed in');
    expect(texts[2]).toContain('step append-c');
    expect(texts[3]).toBe(`:warning: gameday toy left degraded: b is half done (run ${r.runId})`);
  });

  it('a run that succeeds but leaves something degraded says so after finishing', async () => {
    const { rx, notifier } = await receiver();
    const r = await startRun(toyEntry(), { dir: tmp.make(), leaveDegraded: true }, engineOptions(tmp.make(), { notifier }));
    expect(r.state).toBe('succeeded');
    expect(r.degraded).toEqual(['b is half done']);
    expect(rx.texts().map((t) => t.split(' ')[0])).toEqual([':arrow_forward:', 'toy', ':white_check_mark:', ':warning:']);
  });

  it('waiting for approval is announced with the command that approves', async () => {
    const { rx, notifier } = await receiver();
    const r = await startRun(toyEntry(), { dir: tmp.make(), approve: true }, engineOptions(tmp.make(), { notifier }));
    expect(rx.texts()).toHaveLength(2);
    expect(rx.texts()[1]).toBe(`:raised_hand: gameday toy waits for approval at step approve: Append b and c? (run ${r.runId}; approve with: gameday runbook resume ${r.runId} --yes)`);
  });

  it('a webhook that fails does not fail the run', async () => {
    const closed = await slackReceiver();
    await closed.close();
    const r = await startRun(toyEntry(), { dir: tmp.make() }, engineOptions(tmp.make(), { notifier: slackNotifier({ webhookUrl: closed.url, log: silentLog, timeoutMs: 300 }) }));
    expect(r.state).toBe('succeeded');
  });
});
