import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { paramSpecs, parseParams, rawParamsFromFlags } from '../../../engine/params.js';
import { durationParam, formatDuration, parseDuration } from '../../../core/duration.js';
import { renderDocs } from '../../../engine/docs.js';
import { GamedayError } from '../../../core/errors.js';
import { demoCounter, sourceFile as demoSource } from '../../../engine/demo.js';
import { toyEntry } from '../../fixtures/runbooks/toy.js';

const runbook = {
  name: 'reboot-like',
  params: z.object({
    maxUptime: durationParam().describe('reboot hosts up longer than this'),
    margin: durationParam('0s').describe('also within this margin'),
    waves: z.number().int().min(1).default(1).describe('hosts per wave'),
    dryish: z.boolean().default(false).describe('say more'),
    tier: z.enum(['db', 'redis']).optional().describe('only this tier'),
    host: z.array(z.string()).default([]).describe('only these hosts'),
  }),
};

function errorOf(fn: () => unknown): GamedayError {
  try {
    fn();
  } catch (err) {
    return err as GamedayError;
  }
  throw new Error('no error');
}

describe('runbook parameters as flags', () => {
  it('derives one flag per key, with kind, description and default', () => {
    expect(paramSpecs(runbook).map((s) => [s.flag, s.kind, s.description, s.default, s.required])).toEqual([
      ['--max-uptime', 'string', 'reboot hosts up longer than this', undefined, true],
      ['--margin', 'string', 'also within this margin', '0s', false],
      ['--waves', 'number', 'hosts per wave', 1, false],
      ['--dryish', 'boolean', 'say more', false, false],
      ['--tier', 'enum', 'only this tier', undefined, false],
      ['--host', 'array', 'only these hosts', [], false],
    ]);
    expect(paramSpecs(runbook)[4].choices).toEqual(['db', 'redis']);
  });

  it('parses flag strings with the schema: durations, numbers, repeated flags', () => {
    const raw = rawParamsFromFlags(paramSpecs(runbook), { maxUptime: '1m', waves: '2', host: ['db-1', 'db-2'], dryish: true, unrelated: 'x' });
    expect(raw).toEqual({ maxUptime: '1m', waves: 2, host: ['db-1', 'db-2'], dryish: true });
    expect(parseParams(runbook, raw)).toEqual({ maxUptime: 60_000, margin: 0, waves: 2, dryish: true, host: ['db-1', 'db-2'] });
  });

  it('a bad value gives one GamedayError naming the flag', () => {
    const notNumber = errorOf(() => rawParamsFromFlags(paramSpecs(runbook), { waves: 'many' }));
    expect([notNumber.code, notNumber.input, notNumber.message]).toEqual(['BAD_PARAM', '--waves', 'not a number: "many"']);

    const badDuration = errorOf(() => parseParams(runbook, { maxUptime: '180 days' }));
    expect([badDuration.code, badDuration.input]).toEqual(['BAD_PARAM', '--max-uptime']);
    expect(badDuration.message).toContain('not a duration: "180 days"');
    expect(badDuration.hint).toBe('reboot hosts up longer than this');

    const missing = errorOf(() => parseParams(runbook, {}));
    expect([missing.input, missing.message]).toEqual(['--max-uptime', 'is required']);

    const choice = errorOf(() => parseParams(runbook, { maxUptime: '1d', tier: 'web' }));
    expect([choice.input, choice.message]).toEqual(['--tier', 'must be one of db, redis, got "web"']);

    const two = errorOf(() => parseParams(runbook, { maxUptime: 'x', waves: 0 }));
    expect(two.input).toBe('--max-uptime');
    expect(two.message).toContain('also --waves:');
  });

  it('a duration past any sane value, and a hold of 0 s, are refused naming the flag (before: both accepted without a word)', () => {
    const huge = errorOf(() => parseParams(runbook, { maxUptime: '99999999999999999999d' }));
    expect([huge.input, huge.message]).toEqual(['--max-uptime', '"99999999999999999999d" is longer than anything this takes (at most 3650d)']);
    const held = { name: 'ramp-like', params: z.object({ hold: durationParam('30s', { minMs: 1000 }).describe('how long each step is held') }) };
    const zero = errorOf(() => parseParams(held, { hold: '0s' }));
    expect([zero.input, zero.message]).toEqual(['--hold', '"0s" is too short: at least 1.0s']);
    expect(parseParams(held, { hold: '1s' })).toEqual({ hold: 1000 });
  });

  it('reads and writes durations', () => {
    expect(['500ms', '90s', '5m', '2h', '180d', '1h30m', '1w', 'x', '5', '-1s'].map(parseDuration)).toEqual([500, 90_000, 300_000, 7_200_000, 15_552_000_000, 5_400_000, 604_800_000, undefined, undefined, undefined]);
    expect([850, 12_345, 245_000, 7_800_000, 277_200_000].map(formatDuration)).toEqual(['850ms', '12.3s', '4m05s', '2h10m', '3d5h']);
  });
});

describe('runbook docs', () => {
  it('renders name, summary, description, parameters and the example plan\'s steps', () => {
    const md = renderDocs([{ runbook: demoCounter, sourceFile: demoSource }, toyEntry()]);
    expect(md).toContain('## demo-counter');
    expect(md).toContain(demoCounter.summary);
    expect(md).toContain('**at-most-once** action');
    expect(md).toContain('| `--increments` | number | `3` | how many times to add one to the counter (at-most-once actions) |');
    expect(md).toContain('| `--settle` | string | `2s` |');
    expect(md).toContain('3. **Add one to the counter (1 of 3)** (action, at-most-once) `increment-1` (undone if a later step of its group fails)');
    expect(md).toContain('waits for /srv/demo/counter = 3, every 100ms, 2 in a row, up to 2.0s');
    expect(md).toContain('Locks held by the whole run: `demo:/srv/demo`.');
    expect(md).toContain('## toy');
    expect(md).toContain('| `--dir` | string | (required) | folder of effects.log |');
  });
});
