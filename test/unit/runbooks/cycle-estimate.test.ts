import { describe, expect, it } from 'vitest';
import { DEFAULT_HOST_MS, estimateCycle, formatCycleEstimate, windowDaysPerWeek, windowLengthMs } from '../../../runbooks/planning/cycleEstimate.js';
import { hostTimeOf, rebootStale, rebootStaleParams, type RebootStalePlan } from '../../../runbooks/rebootStale.js';
import type { Wave } from '../../../runbooks/planning/waves.js';

const H = 3_600_000;
const M = 60_000;
/** `n` waves of `size` hosts each. */
const wavesOf = (n: number, size = 1): Wave[] => Array.from({ length: n }, (_, w) => ({ zone: 'az-a', hosts: Array.from({ length: size }, (_, i) => `h-${w}-${i}`) }));
const NIGHTLY = { days: 'all', hours: '02:00-05:00' };

describe('cycle estimate', () => {
  it('10 waves of an hour in a 3-hour night take 4 nights; their 20 hosts one after another take 7', () => {
    const e = estimateCycle(wavesOf(10, 2), { hostMs: H, window: NIGHTLY });
    expect(e).toMatchObject({ hosts: 20, waves: 10, hostMs: H });
    expect(e.together).toMatchObject({ units: 10, totalMs: 10 * H, windows: 4, perWindow: 3, calendarDays: 4 });
    expect(e.oneByOne).toMatchObject({ units: 20, totalMs: 20 * H, windows: 7, perWindow: 3 });
  });

  it('a wave starts while the window is open and may run past its end, as reboot-stale checks the window before each host', () => {
    // 50-minute waves start at 0, 50, 100 and 150 minutes of a 180-minute window: 4 a night.
    const e = estimateCycle(wavesOf(8), { hostMs: 50 * M, window: NIGHTLY });
    expect(e.together).toMatchObject({ perWindow: 4, windows: 2 });
    // A wave longer than the window still gets one a night.
    expect(estimateCycle(wavesOf(3), { hostMs: 4 * H, window: NIGHTLY }).together.windows).toBe(3);
  });

  it('a wave lasts as long as its slowest host', () => {
    const e = estimateCycle([{ zone: 'az-a', hosts: ['web-1', 'db-2', 'web-2'] }], { hostMs: (h) => (h.startsWith('db') ? 20 * M : 5 * M) });
    expect(e.together.totalMs).toBe(20 * M);
    expect(e.oneByOne.totalMs).toBe(30 * M);
    expect(e.hostMs).toBeUndefined();
  });

  it('windows on weekdays only stretch the calendar: 10 nights of mon-fri are 14 days', () => {
    const e = estimateCycle(wavesOf(30), { hostMs: H, window: { days: 'mon-fri', hours: '02:00-05:00' } });
    expect(e.together).toMatchObject({ windows: 10, calendarDays: 14 });
    expect(formatCycleEstimate(e)).toContain('~10 nights (~14 calendar days)');
  });

  it('a window open all the time runs on across midnight: 30 hours of waves are 2 days, not 30 one-wave windows', () => {
    const e = estimateCycle(wavesOf(30), { hostMs: H });
    expect(e.window.continuous).toBe(true);
    expect(e.together).toMatchObject({ windows: 2, calendarDays: 2 });
  });

  it('reads window lengths and days the way the maintenance window does', () => {
    expect(windowLengthMs('02:00-05:00')).toBe(3 * H);
    expect(windowLengthMs('22:00-04:00')).toBe(6 * H);
    expect(windowLengthMs('00:00-24:00')).toBe(24 * H);
    expect(windowDaysPerWeek('all')).toBe(7);
    expect(windowDaysPerWeek('mon-fri')).toBe(5);
    expect(windowDaysPerWeek('sat,sun')).toBe(2);
    expect(windowDaysPerWeek('fri-mon')).toBe(4);
  });

  it('says it in words an operator reads: hosts, waves, time and nights', () => {
    const e = estimateCycle(wavesOf(2_000, 5), { hostMs: 5 * M, window: NIGHTLY });
    expect(formatCycleEstimate(e, { oneByOneNow: true })).toBe(
      "10,000 hosts in 2,000 waves at 5m00s a host, daily windows of 02:00-05:00: ~6d22h, ~56 nights if a wave's hosts run together; this run takes them one after another (--concurrency raises it): ~34d17h, ~278 nights",
    );
    expect(formatCycleEstimate(estimateCycle([]))).toBe('nothing to reboot: no wave');
  });
});

describe('reboot-stale shows the estimate in its plan', () => {
  const plan: RebootStalePlan = {
    checkedAt: '2026-11-24T02:00:00.000Z',
    uptimes: { 'web-1': 9e6, 'web-2': 9e6, 'db-2': 9e6, 'db-3': 9e6 },
    stale: ['web-1', 'web-2', 'db-2', 'db-3'],
    waves: [
      { zone: 'az-a', hosts: ['web-1', 'web-2', 'db-2'] },
      { zone: 'az-b', hosts: ['db-3'] },
    ],
    refused: [],
    pooled: ['web-1', 'web-2'],
  };

  it("one host's turn comes from the runbook's timeouts, or --host-time", () => {
    const defaults = rebootStaleParams.parse({ maxUptime: '1d' });
    expect(hostTimeOf(defaults)).toBe(DEFAULT_HOST_MS);
    expect(DEFAULT_HOST_MS).toBe(297_000); // 30s + 15s + 180s + 3s + 60s + 3 x 3s
    expect(hostTimeOf(rebootStaleParams.parse({ maxUptime: '1d', warmup: 'off', rebootTimeout: '10m' }))).toBe(DEFAULT_HOST_MS - 60_000 + 420_000);
    expect(hostTimeOf(rebootStaleParams.parse({ maxUptime: '1d', hostTime: '2h' }))).toBe(2 * H);
  });

  it('its first step gives the wave count and both estimates: waves run together, and hosts one after another as this version does', () => {
    const params = rebootStaleParams.parse({ maxUptime: '1d', hours: '02:00-05:00', hostTime: '2h' });
    const steps = rebootStale.steps(plan, params);
    expect(steps[0].id).toBe('estimate');
    // 2 waves of 2 h: both start in one 3-hour night; 4 hosts of 2 h one after another: 2 a night, 2 nights.
    expect(steps[0].title).toBe(
      "cycle estimate: 4 hosts in 2 waves at 2h00m a host, daily windows of 02:00-05:00: ~4h00m, ~1 night if a wave's hosts run together; this run takes them one after another (--concurrency raises it): ~8h00m, ~2 nights",
    );
    // Without limits (a plan made before them) no limits step; with them, one line naming each tier's limit and what set it.
    expect(steps[1].id).toBe('wave-1/web-1/window');
    const limited = rebootStale.steps({ ...plan, maxPerWave: 50, limits: [{ tier: 'web', kind: 'http', members: 12, perWave: 6, by: 'maxUnavailable 50% of 12 = 6' }, { tier: 'db', kind: 'mariadb', members: 3, perWave: 1, by: 'mariadb: 1 unless maxUnavailable says more' }] }, params);
    expect(limited[1]).toMatchObject({ id: 'wave-limits', title: 'a wave takes down at most 50 hosts, and of each tier: web 6 (maxUnavailable 50% of 12 = 6); db 1 (mariadb: 1 unless maxUnavailable says more)' });
    expect(steps.find((s) => s.id === 'wave-2/db-3/window')!.title).toMatch(/^wave 2 of 2 \(az-b, 1 host\): /);
    // Still one host after another: every host's steps, in wave order.
    const reboots = steps.filter((s) => s.id.endsWith('/reboot')).map((s) => s.id);
    expect(reboots).toEqual(['wave-1/web-1/reboot', 'wave-1/web-2/reboot', 'wave-1/db-2/reboot', 'wave-2/db-3/reboot']);
  });

  it("with --concurrency, makes each wave's hosts lanes the engine runs side by side, and estimates what this run does", () => {
    const params = rebootStaleParams.parse({ maxUptime: '1d', hours: '02:00-05:00', hostTime: '2h', concurrency: 2 });
    const steps = rebootStale.steps(plan, params);
    const wave1 = steps.filter((s) => s.id.startsWith('wave-1/'));
    expect(new Set(wave1.map((s) => s.lane?.block))).toEqual(new Set(['wave-1']));
    expect(new Set(wave1.map((s) => s.lane?.lane))).toEqual(new Set(['web-1', 'web-2', 'db-2']));
    expect(wave1.every((s) => s.lane?.concurrency === 2)).toBe(true);
    expect(steps.filter((s) => s.id === 'estimate' || s.id === 'verify-notifications').every((s) => s.lane === undefined)).toBe(true);
    // Wave 1 (3 hosts) takes two batches of 2 h, wave 2 one: 6 h in 3-hour nights.
    expect(steps[0].title).toContain("this run takes 2 of a wave's hosts at a time: ~6h00m, ~2 nights (one after another: ~8h00m, ~2 nights)");
    expect(rebootStaleParams.safeParse({ maxUptime: '1d', concurrency: 0 }).error?.issues[0].message).toBe('must be 1 or more: hosts of one wave rebooted at the same time');
    // A proxy of the wave goes first, alone (no lane): the others' hand-offs and ramps talk to every proxy.
    const withProxy = rebootStale.steps({ ...plan, waves: [{ zone: 'az-a', hosts: ['web-1', 'lb-1', 'db-2'] }], proxies: ['lb-1'] }, params);
    const wave = withProxy.filter((s) => s.id.startsWith('wave-1/'));
    expect(wave[0]!.id).toBe('wave-1/lb-1/window');
    expect(wave.filter((s) => s.id.startsWith('wave-1/lb-1/')).every((s) => s.lane === undefined)).toBe(true);
    const lastOfProxy = wave.map((s) => s.id).lastIndexOf(wave.filter((s) => s.id.startsWith('wave-1/lb-1/')).at(-1)!.id);
    expect(wave.slice(lastOfProxy + 1).every((s) => s.lane?.block === 'wave-1')).toBe(true);
  });

  it('refuses a bad --max-per-wave with a message that says what it is', () => {
    const r = rebootStaleParams.safeParse({ maxUptime: '1d', maxPerWave: 0 });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0].message).toBe('must be 1 or more: the most hosts one wave may take down together');
    expect(rebootStaleParams.safeParse({ maxUptime: '1d', maxPerWave: 2.5 }).error?.issues[0].message).toBe('must be a whole number of hosts, e.g. 50');
    expect(rebootStaleParams.parse({ maxUptime: '1d' }).maxPerWave).toBe(50);
  });
});
