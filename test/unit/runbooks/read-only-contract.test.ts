import { describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import { readOnlyContractStep, readOnlyContractWarnings } from '../../../runbooks/steps/configContract.js';
import type { StepContext } from '../../../engine/types.js';
import type { FleetEnv } from '../../../runbooks/steps/fleet.js';

/** Fake servers answering the SYSTEM_VARIABLES query with read_only's value and origin. */
function fleetWith(servers: Record<string, { v: string; origin: string } | 'dark'>): FleetEnv {
  const mysql = async (name: string) => {
    const s = servers[name];
    if (s === 'dark') throw new Error('connect ETIMEDOUT');
    return { query: async () => [[s]], end: async () => undefined, destroy: () => undefined } as unknown as Connection;
  };
  return { mysql } as unknown as FleetEnv;
}

describe("every db host whose config would not start it read-only (gameday's contract) is named before it is rebooted", () => {
  it('says nothing of a server read-only by its config, and names the others with why', async () => {
    const f = fleetWith({
      'db-1': { v: 'OFF', origin: 'SQL' },
      'db-2': { v: 'ON', origin: 'CONFIG' },
      'db-3': { v: 'OFF', origin: 'COMPILE-TIME' },
      'db-4': { v: 'OFF', origin: 'CONFIG' },
      'db-5': 'dark',
    });
    const w = await readOnlyContractWarnings(f, ['db-1', 'db-2', 'db-3', 'db-4', 'db-5']);
    expect(w.map((x) => x.host)).toEqual(['db-1', 'db-3', 'db-4', 'db-5']);
    expect(w[0].reason).toContain('cannot be read over SQL');
    expect(w[1].reason).toContain('read_only is not in its config: it boots writable');
    expect(w[2].reason).toContain('its config sets read_only OFF');
    expect(w[3].reason).toContain('unknown (connect ETIMEDOUT)');
    expect(w.map((x) => x.breaks)).toEqual([false, true, true, false]);
  });

  it('reboot-stale refuses to touch a host whose config boots it writable, and notes the ones it cannot judge', async () => {
    const f = fleetWith({ 'db-1': { v: 'OFF', origin: 'SQL' }, 'db-3': { v: 'OFF', origin: 'COMPILE-TIME' } });
    const notes: string[] = [];
    const ctx = { env: { fleet: f }, note: async (t: string) => void notes.push(t) } as unknown as StepContext;
    await expect(readOnlyContractStep('wave-1/db-3/config', 'db-3').run(ctx)).rejects.toMatchObject({ code: 'CONFIG_WRITABLE' });
    await readOnlyContractStep('wave-1/db-1/config', 'db-1').run(ctx);
    expect(notes).toEqual([expect.stringContaining('db-1: read_only was set since it started')]);
  });
});
