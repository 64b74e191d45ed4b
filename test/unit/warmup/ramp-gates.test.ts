import { describe, expect, it } from 'vitest';
import { DEFAULT_RAMP_LIMITS, judgePool } from '../../../warmup/rampGates.js';
import type { ServerCounters } from '../../../drivers/haproxy/runtime.js';
import { rampParams } from '../../../runbooks/ramp.js';
import { judgeShare } from '../../../warmup/trafficGates.js';

const row = (server: string, sessions: number, errors: number, responseMs = 5, status = 'UP', queued = 0): ServerCounters => ({ backend: 'web', server, status, sessions, errors, responseMs, queued });
const before = [row('app-1', 1000, 0), row('app-2', 100, 0), row('app-3', 1000, 0)];

describe('the ramp gates (the ramped server against its peers, between two snapshots)', () => {
  it('pass a server that does as its peers do', () => {
    const v = judgePool(before, [row('app-1', 1100, 0), row('app-2', 150, 0), row('app-3', 1100, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS);
    expect(v).toMatchObject({ ok: true });
    expect(v.detail).toContain('50 sessions, 0 errors');
    // 50 answers is not a judgement of its speed: the pass says so.
    expect(v.detail).toContain("response time not judged (50 answers in the hold, HAProxy's average needs 1024: hold longer)");
    const judged = judgePool(before, [row('app-1', 3100, 0), row('app-2', 1200, 0), row('app-3', 3100, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS);
    expect(judged.detail).not.toContain('not judged');
    expect(judgePool(before, [row('app-1', 1010, 0), row('app-2', 105, 0), row('app-3', 1010, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).detail).toContain('errors not judged (5 sessions, needs 20)');
  });

  it('fail a server with more errors than its peers, naming the figures', () => {
    const v = judgePool(before, [row('app-1', 1100, 1), row('app-2', 150, 10), row('app-3', 1100, 1)], 'web', 'app-2', DEFAULT_RAMP_LIMITS);
    expect(v.ok).toBe(false);
    expect(v.detail).toMatch(/10 errors in 50 sessions \(20\.0 %, peers 1\.0 %/);
  });

  it('do not judge errors on too few sessions, nor fail a server whose peers fail as much', () => {
    expect(judgePool(before, [row('app-1', 1010, 0), row('app-2', 105, 2), row('app-3', 1010, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).ok).toBe(true);
    expect(judgePool(before, [row('app-1', 1100, 20), row('app-2', 150, 10), row('app-3', 1100, 20)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).ok).toBe(true);
  });

  it('fail a slow server (over twice its peers, and over 20 ms) once the window holds the 1024 answers HAProxy averages, a queueing one, and one that is not UP', () => {
    expect(judgePool(before, [row('app-1', 3100, 0, 40), row('app-2', 1200, 0, 120), row('app-3', 3100, 0, 40)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).detail).toMatch(/answers in 120 ms against its peers' 40 ms/);
    // Fewer answers than that: rtime is mostly history (a slow minute long ago), not this window.
    expect(judgePool(before, [row('app-1', 1100, 0, 14), row('app-2', 150, 0, 31), row('app-3', 1100, 0, 14)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).ok).toBe(true);
    expect(judgePool(before, [row('app-1', 3100, 0, 2), row('app-2', 1200, 0, 9), row('app-3', 3100, 0, 2)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).ok).toBe(true);
    expect(judgePool(before, [row('app-1', 1100, 0), row('app-2', 150, 0, 5, 'UP', 30), row('app-3', 1100, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS).detail).toMatch(/30 requests queued/);
    expect(judgePool(before, [row('app-1', 1100, 0), row('app-2', 150, 0, 5, 'DOWN'), row('app-3', 1100, 0)], 'web', 'app-2', DEFAULT_RAMP_LIMITS)).toEqual({ ok: false, detail: 'web/app-2 is DOWN' });
  });

  it('take rising steps ending at 100 and bounded retries; refuse anything else naming the parameter', () => {
    expect(rampParams.parse({ host: 'app-2' })).toMatchObject({ steps: [10, 25, 50, 100], hold: 30_000, retries: 2 });
    for (const bad of [{ host: 'app-2', steps: '50' }, { host: 'app-2', steps: 'foo,100' }, { host: 'app-2', steps: '50,25,100' }, { host: 'app-2', hold: 'soon' }, { host: 'app-2', retries: '-1' }, {}]) {
      expect(rampParams.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('gates of an ALB or Route 53 share', () => {
  const limits = { maxErrorPercent: 1, maxSlowdown: 2 };
  const traffic = (requests: number, errors: number, responseMs: number) => ({ own: { name: 'web-az-a', requests, errors, responseMs }, peers: [{ name: 'web-az-b', requests: 900, errors: 1, responseMs: 12 }] });
  it('judge errors and response time against the peers only once it has 20 requests, and a health check by majority', () => {
    expect(judgeShare('tg a', { traffic: traffic(10, 5, 400) }, [], limits).ok).toBe(true);
    expect(judgeShare('tg a', { traffic: traffic(200, 5, 12) }, [], limits).detail).toMatch(/5 5xx in 200 requests \(2.5 %, peers 0.1 %/);
    expect(judgeShare('tg a', { traffic: traffic(200, 0, 30) }, [], limits).detail).toMatch(/answers in 30 ms against its peers' 12 ms/);
    expect(judgeShare('tg a', { traffic: traffic(200, 0, 18) }, [], limits).ok).toBe(true); // under 20 ms everything is fast enough
    expect(judgeShare('rec', { healthCheck: { id: 'hc', healthy: 2, checkers: 4 } }, [], limits).ok).toBe(false);
    expect(judgeShare('rec', { healthCheck: { id: 'hc', healthy: 3, checkers: 4 } }, [], limits).ok).toBe(true);
    expect(judgeShare('tg a', { targets: { healthy: 0, total: 0, unhealthy: [] } }, [], limits).detail).toMatch(/no registered targets/);
  });
});
