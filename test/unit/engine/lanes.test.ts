import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { afterEach, describe, expect, it } from 'vitest';
import { resumeRun, startRun } from '../../../engine/runner.js';
import type { RegisteredRunbook, Runbook, Step } from '../../../engine/types.js';
import { engineOptions, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

/** Three hosts, two steps each, in one block of lanes; host b's second step fails while a file exists. */
function lanesRunbook(log: string[], concurrency: number, failFile: string): RegisteredRunbook {
  const runbook: Runbook<Record<string, never>, { hosts: string[] }> = {
    name: 'lanes',
    summary: 'lanes test',
    params: z.object({}),
    resolve: async () => ({ hosts: ['a', 'b', 'c'] }),
    steps: (plan) => [
      { id: 'before', kind: 'probe', title: 'before', run: async () => void log.push('before') },
      ...plan.hosts.flatMap((h): Step[] =>
        ['down', 'up'].map((what) => ({
          id: `wave-1/${h}/${what}`,
          kind: 'action',
          semantics: 'idempotent',
          title: `${what} ${h}`,
          locks: [`host:${h}`],
          lane: { block: 'wave-1', lane: h, concurrency },
          describe: () => ({ target: h }),
          run: async () => {
            log.push(`start ${h}/${what}`);
            await sleep(h === 'a' ? 120 : 40);
            if (h === 'b' && what === 'up' && existsSync(failFile)) throw new Error('b does not come up');
            log.push(`end ${h}/${what}`);
          },
        })),
      ),
      { id: 'after', kind: 'probe', title: 'after', run: async () => void log.push('after') },
    ],
  };
  return { runbook, sourceFile: __filename };
}

describe('lanes: a block of steps run side by side, one lane per host', () => {
  it('runs up to `concurrency` lanes at once, each lane in order, and the steps after the block once all are done', async () => {
    const log: string[] = [];
    const result = await startRun(lanesRunbook(log, 2, join(tmp.make(), 'none')), {}, engineOptions(tmp.make()));
    expect(result.state).toBe('succeeded');
    // a and b start together; c waits for a free lane (b's, which is faster); "after" waits for all.
    expect(log.slice(0, 3)).toEqual(['before', 'start a/down', 'start b/down']);
    expect(log.indexOf('start c/down')).toBeGreaterThan(log.indexOf('end b/up'));
    expect(log.indexOf('start c/down')).toBeLessThan(log.indexOf('end a/up'));
    for (const h of ['a', 'b', 'c']) expect(log.indexOf(`end ${h}/down`)).toBeLessThan(log.indexOf(`start ${h}/up`));
    expect(log.at(-1)).toBe('after');
  });

  it('with concurrency 1 is one host after another, as before', async () => {
    const log: string[] = [];
    await startRun(lanesRunbook(log, 1, join(tmp.make(), 'none')), {}, engineOptions(tmp.make()));
    expect(log).toEqual(['before', ...['a', 'b', 'c'].flatMap((h) => [`start ${h}/down`, `end ${h}/down`, `start ${h}/up`, `end ${h}/up`]), 'after']);
  });

  it('when a lane fails, the others finish their step and start no other; the run fails, and resume finishes what is left', async () => {
    const stateDir = tmp.make();
    const failFile = join(tmp.make(), 'broken');
    writeFileSync(failFile, '');
    const log: string[] = [];
    const entry = lanesRunbook(log, 3, failFile);
    const first = await startRun(entry, {}, engineOptions(stateDir));
    expect(first.state).toBe('failed');
    expect(log).not.toContain('after');
    // a was in its first step when b failed: it finished it, and did not start its second.
    expect(log).toContain('end a/down');
    expect(log).not.toContain('start a/up');
    log.length = 0;
    const { rmSync } = await import('node:fs');
    rmSync(failFile);
    const resumed = await resumeRun(first.run.runId, () => entry, engineOptions(stateDir));
    expect(resumed.state).toBe('succeeded');
    expect(log).toEqual(expect.arrayContaining(['start a/up', 'start b/up', 'after']));
    expect(log).not.toContain('start a/down');
    expect(log).not.toContain('start c/down');
  });
});
