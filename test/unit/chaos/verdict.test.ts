import { describe, expect, it } from 'vitest';
import { endState, steadyState, verdictOf } from '../../../chaos/gameDay/verdict.js';
import type { CheckResult } from '../../../chaos/record.js';
import type { LoopSample } from '../../../chaos/load/loop.js';
import type { FleetSample } from '../../../chaos/probes/fleetSampler.js';

const check = (id: string, passed: boolean): CheckResult => ({ id, title: id, status: passed ? 'held' : 'failed', passed, detail: '', measured: {}, at: new Date(0).toISOString() });
const unsure = (id: string, optional = false): CheckResult => ({ id, title: id, status: 'inconclusive', passed: false, detail: 'saw 3 of the 50 fleet samples it needed', measured: {}, at: new Date(0).toISOString(), ...(optional ? { optional } : {}) });
const request = (ok: boolean): LoopSample => ({ at: 0, kind: 'read', ok, status: ok ? 200 : 503, ms: 3 });
const db = (readOnly: boolean, replicating: boolean) => ({ readOnly, replicating, ioRunning: replicating, sqlRunning: replicating, lagMs: 0 });
const fleet = (dbs: FleetSample['db']): FleetSample => ({ at: 0, proxies: {}, db: dbs, sentinels: {}, ms: 1 });

describe('the verdict of a game day', () => {
  it('a run that reached its end passes when every check held, fails naming the checks that did not', () => {
    expect(verdictOf({ kind: 'completed' }, [check('a', true), check('b', true)])).toEqual({ verdict: 'passed', verdictReason: '2 held, 0 failed, 0 inconclusive: all 2 checks held' });
    expect(verdictOf({ kind: 'completed' }, [check('a', false), check('b', true), check('c', false)])).toEqual({ verdict: 'failed', verdictReason: '1 held, 2 failed, 0 inconclusive: a failed; c failed' });
  });

  it('an inconclusive check fails the game day with its reason, unless the scenario marks it optional; no check at all is no pass', () => {
    expect(verdictOf({ kind: 'completed' }, [check('a', true), unsure('b')])).toEqual({ verdict: 'failed', verdictReason: '1 held, 0 failed, 1 inconclusive: b inconclusive (saw 3 of the 50 fleet samples it needed)' });
    expect(verdictOf({ kind: 'completed' }, [check('a', true), unsure('b', true)])).toEqual({ verdict: 'passed', verdictReason: '1 held, 0 failed, 1 inconclusive (1 optional)' });
    expect(verdictOf({ kind: 'completed' }, [])).toEqual({ verdict: 'failed', verdictReason: 'no check ran: nothing was observed to hold' });
  });

  it('a stop or an error aborts it whatever the checks say; a steady state that did not hold refuses it', () => {
    expect(verdictOf({ kind: 'stopped', reason: 'SIGINT' }, [check('a', false)])).toEqual({ verdict: 'aborted', verdictReason: 'stopped: SIGINT; every fault was undone' });
    expect(verdictOf({ kind: 'failed', error: new Error('could not inject power-off host db-1: no route') }, [])).toEqual({ verdict: 'aborted', verdictReason: 'the game day failed: could not inject power-off host db-1: no route' });
    expect(verdictOf({ kind: 'refused', steady: { ok: false, detail: '3 of 40 warm-up requests failed' } }, [])).toEqual({ verdict: 'refused', verdictReason: 'steady state did not hold before the first fault: 3 of 40 warm-up requests failed' });
  });

  it('the journal\'s end state follows the verdict', () => {
    expect([endState('passed'), endState('failed'), endState('aborted'), endState('refused')]).toEqual(['succeeded', 'failed', 'stopped', 'failed']);
  });
});

describe('the steady state before the first fault', () => {
  const primaryAndReplica = fleet({ 'db-1': db(false, false), 'db-2': db(true, true) });

  it('holds with every warm-up request answered and one writable MariaDB primary', () => {
    expect(steadyState([request(true), request(true)], primaryAndReplica)).toEqual({ ok: true, detail: '2 warm-up requests, none failed; one writable MariaDB primary' });
  });

  it('does not hold without requests, with a failed one, or without exactly one writable primary', () => {
    expect(steadyState([], primaryAndReplica).ok).toBe(false);
    expect(steadyState([request(true), request(false)], primaryAndReplica).detail).toBe('1 of 2 warm-up requests failed: the fleet is not healthy, no fault was injected');
    expect(steadyState([request(true)], fleet({ 'db-1': db(false, false), 'db-2': db(false, false) })).detail).toBe('2 MariaDB servers take writes before any fault (db-1, db-2): no fault was injected');
    expect(steadyState([request(true)], fleet({ 'db-1': db(true, true), 'db-2': db(true, true) })).detail).toBe('0 MariaDB servers take writes before any fault: no fault was injected');
    expect(steadyState([request(true)], undefined).detail).toBe('the fleet was not sampled before the first fault: no fault was injected');
  });

  it('does not hold with a replica that takes writes (read_only off), nor with a server that did not answer', () => {
    expect(steadyState([request(true)], fleet({ 'db-1': db(false, false), 'db-2': db(false, true) })).detail).toBe('2 MariaDB servers take writes before any fault (db-1, db-2): no fault was injected');
    expect(steadyState([request(true)], fleet({ 'db-1': db(false, true), 'db-2': db(true, true) })).detail).toBe('db-1 takes writes while it replicates from another server: no fault was injected');
    expect(steadyState([request(true)], fleet({ 'db-1': db(false, false), 'db-2': null })).detail).toBe('db-2 did not answer before the first fault: whether one MariaDB server takes writes is unknown, no fault was injected');
  });
});
