import { describe, expect, it } from 'vitest';
import type { Host } from '../../../topology/index.js';
import { SshPowerDriver, type SshResult } from '../../../drivers/power/ssh.js';
import type { Clock } from '../../../drivers/power/clock.js';

const host: Host = { name: 'db-1', tier: 'db', zone: 'az-a', rack: 'a1', address: '10.0.1.11', services: {}, power: 'ssh' };
const fence = { fenceHost: 'ipmi-gw', fenceCommand: ['ipmitool', '-H', '{host}-ipmi', 'chassis', 'power', 'off'], fenceStatusCommand: ['ipmitool', '-H', '{host}-ipmi', 'chassis', 'power', 'status'] };
const clock: Clock = { now: () => Date.now(), sleep: async () => undefined };

/** A fake ssh that records what it was asked to run where, and answers the status with `states` in turn. */
function fakeSsh(states: string[]) {
  const calls: string[] = [];
  const run = async (_file: string, args: readonly string[]): Promise<SshResult> => {
    const remote = args.at(-1)!;
    calls.push(`${args.at(-2)}: ${remote}`);
    if (remote.includes('status')) return { exitCode: 0, stdout: `Chassis Power is ${states.shift() ?? 'off'}\n`, stderr: '', timedOut: false };
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
  };
  return { calls, run };
}

describe('STONITH over ssh: a management host cuts the power, and its status proves it', () => {
  it('cuts the power from the management host and waits until the status says off', async () => {
    const ssh = fakeSsh(['on', 'off']);
    const d = new SshPowerDriver(fence, { run: ssh.run, clock });
    await d.powerOff!(host);
    expect(ssh.calls[0]).toBe("ipmi-gw: 'ipmitool' '-H' 'db-1-ipmi' 'chassis' 'power' 'off'");
    expect(ssh.calls.filter((c) => c.includes('status'))).toHaveLength(2);
    expect(await d.powerState!(host)).toBe('off');
  });

  it('a status that says neither on nor off is no answer', async () => {
    const d = new SshPowerDriver(fence, { run: async () => ({ exitCode: 0, stdout: 'Unable to establish IPMI v2 session', stderr: '', timedOut: false }), clock });
    await expect(d.powerState!(host)).rejects.toMatchObject({ code: 'POWER_SSH_FENCE_FAILED' });
  });

  it('without a fence, the driver cannot cut power (failover-db then refuses: FENCE_UNPROVEN); half a fence is refused', () => {
    expect(new SshPowerDriver({}).powerOff).toBeUndefined();
    expect(() => new SshPowerDriver({ fenceHost: 'ipmi-gw', fenceCommand: ['x'] })).toThrow(/go together/);
  });
});
