import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { hostReady } from '../../../runbooks/steps/hostGates.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';
import { fakeMariadbFleet } from '../../fixtures/fakeMariadb.js';

const inv = labInventory(22);
const host = (name: string) => inv.hosts.find((h) => h.name === name)!;

/** Fake servers: read_only, replicating (from db-1, caught up) or not, or no answer. */
function fleetWith(servers: Record<string, { readOnly: boolean; replicating: boolean } | 'dark'>): FleetEnv {
  return fakeMariadbFleet(inv, Object.fromEntries(Object.entries(servers).map(([name, s]) => [name, s === 'dark' ? s : { readOnly: s.readOnly, ...(s.replicating ? { follows: 'db-1' } : {}) }])));
}

describe('a MariaDB host back in service is ready only as a read-only replica or as the one writable server', () => {
  it('takes the one writable primary and a caught-up read-only replica', async () => {
    const f = fleetWith({ 'db-1': { readOnly: false, replicating: false }, 'db-2': { readOnly: true, replicating: true }, 'db-3': { readOnly: true, replicating: true } });
    expect(await hostReady(f, inv, host('db-1'), 3000)).toEqual({ ok: true, detail: 'the one writable primary of its cluster' });
    expect((await hostReady(f, inv, host('db-2'), 3000)).ok).toBe(true);
  });

  it('refuses a former primary that came back writable beside the new one', async () => {
    const f = fleetWith({ 'db-1': { readOnly: false, replicating: false }, 'db-2': { readOnly: false, replicating: false }, 'db-3': { readOnly: true, replicating: true } });
    const r = await hostReady(f, inv, host('db-1'), 3000);
    expect(r.ok).toBe(false);
    expect(r.detail).toContain('writable beside db-2');
  });

  it('refuses a writable server whose peers cannot be asked, and a replica with read_only off', async () => {
    const dark = fleetWith({ 'db-1': { readOnly: false, replicating: false }, 'db-2': 'dark', 'db-3': { readOnly: true, replicating: true } });
    expect((await hostReady(dark, inv, host('db-1'), 3000)).detail).toContain('whether db-2 is writable too is unknown');
    const writableReplica = fleetWith({ 'db-1': { readOnly: false, replicating: false }, 'db-2': { readOnly: false, replicating: true }, 'db-3': { readOnly: true, replicating: true } });
    expect(await hostReady(writableReplica, inv, host('db-2'), 3000)).toMatchObject({ ok: false, detail: expect.stringContaining('a replica with read_only off') });
  });
});
