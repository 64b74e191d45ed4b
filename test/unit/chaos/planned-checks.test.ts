import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { resolveFaults } from '../../../chaos/faults/resolve.js';
import { parseScenario } from '../../../chaos/scenario/load.js';
import { plannedChecks } from '../../../chaos/checks/applicability.js';

const inv = labInventory(20);
const scenario = (faults: unknown[], checks: unknown = {}) => parseScenario({ name: 'x', description: 'x', load: { duration: '60s' }, faults, checks }, 'test');
const plan = (faults: unknown[], checks: unknown = {}) => {
  const s = scenario(faults, checks);
  return Object.fromEntries(plannedChecks(inv, resolveFaults(inv, s.faults), s.checks).map((c) => [c.id, c]));
};

describe('which checks a plan will judge, and why the others not', () => {
  it('a rack with a db host and an app: its servers must leave their pools; no Redis failover', () => {
    const p = plan([{ type: 'power-off', target: { rack: 'a1' } }]);
    expect(p['dead-servers-leave-pools']).toEqual({ id: 'dead-servers-leave-pools', applies: 'yes', why: 'must leave: db-1 from db-write, db-1 from db-read, app-1 from web' });
    expect(p['redis-failover'].applies).toBe('no');
    expect(Object.values(p).map((c) => c.id)).toEqual(['dead-servers-leave-pools', 'redis-failover', 'writes-resume', 'reads-resume', 'one-writable-primary', 'no-stale-reads', 'no-lost-writes', 'error-budget']);
  });

  it('a Redis host by name applies only if it is the primary when the fault lands; the live primary applies', () => {
    expect(plan([{ type: 'power-off', target: { host: 'redis-2' } }])['redis-failover']).toMatchObject({ applies: 'if', why: expect.stringContaining('if redis-2 is the Redis primary') });
    expect(plan([{ type: 'power-off', target: { primary: 'redis' } }])['redis-failover'].applies).toBe('yes');
  });

  it('a check the scenario turned off says so', () => {
    expect(plan([{ type: 'power-off', target: { host: 'app-1' } }], { noStaleReads: false })['no-stale-reads']).toEqual({ id: 'no-stale-reads', applies: 'off', why: 'turned off by the scenario' });
  });
});
