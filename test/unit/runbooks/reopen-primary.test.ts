import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { recoverHost } from '../../../runbooks/recoverHost.js';
import { reopenPrimaryStep, strandedPrimary } from '../../../runbooks/steps/reopenPrimary.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';
import type { StepContext } from '../../../engine/types.js';
import { fakeMariadbFleet, type FakeServer } from '../../fixtures/fakeMariadb.js';

const inv = labInventory(22);
const host = (name: string) => inv.hosts.find((h) => h.name === name)!;

type Server = FakeServer;
const fleetWith = (servers: Record<string, Server>, sets: string[] = []): FleetEnv => fakeMariadbFleet(inv, servers, sets);

function ctxOf(fleet: FleetEnv, notes: string[] = []): StepContext {
  return { inventory: inv, env: { fleet }, results: {}, note: async (text: string) => void notes.push(text) } as unknown as StepContext;
}

const restartedPrimary: Record<string, Server> = { 'db-1': { readOnly: true }, 'db-2': { readOnly: true, follows: 'db-1' }, 'db-3': { readOnly: true, follows: 'db-1' } };

describe('a primary that restarted read-only, with no failover, gets its writes back only when nothing else can be the primary', () => {
  it('gives the writes back when every peer is read-only and replicates from it', async () => {
    const sets: string[] = [];
    const f = fleetWith(restartedPrimary, sets);
    expect((await strandedPrimary(f, inv, host('db-1'))).ok).toBe(true);
    const notes: string[] = [];
    await reopenPrimaryStep('db-1').run(ctxOf(f, notes));
    expect(sets).toEqual(['db-1: SET GLOBAL read_only = OFF']);
    expect(notes[0]).toContain('db-1 writable again');
  });

  it('refuses when a peer was promoted, when a peer does not answer, and when a peer follows another server; nothing is changed', async () => {
    const cases: Array<[Record<string, Server>, string]> = [
      [{ ...restartedPrimary, 'db-2': { readOnly: false } }, 'db-2 is writable'],
      [{ ...restartedPrimary, 'db-3': 'dark' }, 'whether db-3 was promoted is unknown'],
      [{ ...restartedPrimary, 'db-3': { readOnly: true, follows: 'db-2' } }, 'db-3 replicates from'],
    ];
    for (const [servers, why] of cases) {
      const sets: string[] = [];
      const f = fleetWith(servers, sets);
      expect((await strandedPrimary(f, inv, host('db-1'))).why).toContain(why);
      await expect(reopenPrimaryStep('db-1').run(ctxOf(f))).rejects.toThrow(why);
      expect(sets).toEqual([]);
    }
  });

  it('a replica is not a stranded primary', async () => {
    expect((await strandedPrimary(fleetWith(restartedPrimary), inv, host('db-2'))).why).toContain('it is a replica');
  });

  it('recover-host plans the give-back (no fence, no ramp) for such a primary, and fences a replica as before', async () => {
    const env = { fleet: fleetWith(restartedPrimary) };
    const params = recoverHost.params.parse({ host: 'db-1', warmup: 'off' });
    const plan = await recoverHost.resolve({ params, inventory: inv, env } as never);
    const ids = recoverHost.steps(plan, params).map((s) => s.id);
    expect(ids.slice(0, 2)).toEqual(['db-1/reopen-primary', 'db-1/write-pools']);
    expect(ids).not.toContain('db-1/fence');
    const replicaParams = recoverHost.params.parse({ host: 'db-2', warmup: 'off' });
    const replicaPlan = await recoverHost.resolve({ params: replicaParams, inventory: inv, env } as never);
    expect(recoverHost.steps(replicaPlan, replicaParams)[0].id).toBe('db-2/fence');
  });
});
