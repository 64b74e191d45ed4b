import { describe, expect, it } from 'vitest';
import { labInventory } from '../../../lab/layout.js';
import { rebootSteps } from '../../../runbooks/steps/hostSteps.js';
import type { ActionStep, StepContext, WaitForStep } from '../../../engine/types.js';

describe('the reboot ledger', () => {
  it('records a reboot only once "back" has seen the host boot, not when the request returned', async () => {
    const recorded: string[] = [];
    let booted = false;
    const power = {
      kind: 'aws-ec2',
      reboot: async () => undefined,
      waitUntilBack: async () => {
        if (!booted) throw new Error('still up since before the request');
      },
    };
    const fleet = { power: () => power, reboots: { record: (host: string) => recorded.push(host), last: () => undefined } };
    const results: Record<string, unknown> = {};
    const ctx = { inventory: labInventory(22), env: { fleet }, results, note: async () => undefined } as unknown as StepContext;
    const [reboot, back] = rebootSteps('wave-1/app-1', 'app-1', 10) as [ActionStep, WaitForStep];
    results[reboot.id] = await reboot.run(ctx);
    expect(recorded).toEqual([]);
    expect((await back.check(ctx)).ok).toBe(false);
    expect(recorded).toEqual([]);
    booted = true;
    expect((await back.check(ctx)).ok).toBe(true);
    expect(recorded).toEqual(['app-1']);
  });

  it('the host lock is held while the host is down and coming back, not only while the reboot is asked (a game day waits for it)', () => {
    const [reboot, back] = rebootSteps('wave-1/app-1', 'app-1', 10);
    expect([reboot.locks, back.locks]).toEqual([['host:app-1'], ['host:app-1']]);
  });
});
