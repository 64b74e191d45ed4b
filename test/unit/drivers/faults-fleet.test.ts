import { EC2Client, StopInstancesCommand } from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseInventory, type InventoryInput } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import type { SshResult, SshRunner } from '../../../drivers/power/ssh.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import { fleetFaultDriver } from '../../../drivers/faults/fleet.js';
import { faultOptionsFromEnv } from '../../../drivers/faults/env.js';

const ec2 = mockClient(EC2Client);
beforeEach(() => ec2.reset());

const ID = 'i-0123456789abcdef0';
const base: InventoryInput = {
  name: 'mixed',
  tiers: { db: {}, web: {} },
  hosts: [
    { name: 'db-1', tier: 'db', role: 'primary', zone: 'eu-west-1a', rack: 'r1', address: '10.0.1.11', services: { mysql: 3306 }, power: 'aws', id: ID },
    { name: 'db-2', tier: 'db', role: 'replica', zone: 'eu-west-1b', rack: 'r2', address: '10.0.2.11', services: { mysql: 3306 }, power: 'ssh' },
    { name: 'web-1', tier: 'web', zone: 'eu-west-1a', rack: 'r3', address: '10.0.1.31', services: { http: 80 } },
  ],
};
const inv = (hosts = base.hosts) => parseInventory({ ...base, hosts }, 'test');

function recorder(answer: Partial<SshResult> = {}) {
  const calls: string[][] = [];
  const run: SshRunner = async (file, args) => {
    calls.push([file, ...args]);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...answer };
  };
  return { run, calls };
}

const fault = (f: Partial<ResolvedFault> & Pick<ResolvedFault, 'type' | 'hosts'>): ResolvedFault => ({ id: 'f', label: 'zone eu-west-1a', atMs: 0, ...f });
const awsClientConfig = { credentials: { accessKeyId: 'AKIAFAKEFORTESTS', secretAccessKey: 'fake' }, maxAttempts: 1 };

describe('fleet fault driver', () => {
  it('supports what every kind in the inventory supports', () => {
    expect(fleetFaultDriver(inv(), {}, { awsClientConfig })).toMatchObject({ kind: 'aws+ssh', supports: ['power-off'] });
    const sshOnly = inv(base.hosts.filter((h) => h.power !== 'aws'));
    expect(fleetFaultDriver(sshOnly)).toMatchObject({ kind: 'ssh', supports: ['power-off', 'kill-process', 'stop-replication', 'partition', 'redis-data-loss'] });
    // A host without power is ssh by default, or what defaultKind says.
    expect(fleetFaultDriver(sshOnly, { defaultKind: 'aws' }).kind).toBe('aws+ssh');
  });

  it('splits a fault over both kinds: EC2 stops its instances, ssh takes its servers, at the same time', async () => {
    ec2.on(StopInstancesCommand).resolves({});
    const ssh = recorder();
    const d = fleetFaultDriver(inv(), { ssh: { appUnit: 'notification-center' } }, { sshRunner: ssh.run, awsClientConfig });
    const r = await d.inject(fault({ type: 'power-off', hosts: ['db-1', 'web-1'] }));
    expect(r).toEqual({ aws: { stopped: { 'eu-west-1': [ID] } }, ssh: { table: 'gameday_fault_f', killed: { 'web-1': ['notification-center'] } } });
    expect(ec2.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: [ID], Force: true });
    expect(ssh.calls.map((c) => c.at(-2))).toEqual(['10.0.1.31']);
  });

  it('checks every part before touching any (a web host without a unit stops the EC2 part too)', async () => {
    const ssh = recorder();
    const d = fleetFaultDriver(inv(), {}, { sshRunner: ssh.run, awsClientConfig });
    await expect(d.inject(fault({ type: 'power-off', hosts: ['db-1', 'web-1'] }))).rejects.toMatchObject({ code: 'FAULT_NO_UNIT', input: 'host web-1: services' });
    expect(ec2.calls()).toHaveLength(0);
    expect(ssh.calls).toHaveLength(0);
  });

  it('refuses what a kind cannot do, and a partition whose sides include an aws host', async () => {
    const d = fleetFaultDriver(inv(), {}, { sshRunner: recorder().run, awsClientConfig });
    await expect(d.inject(fault({ type: 'kill-process', hosts: ['db-2'], service: 'mysql' }))).rejects.toMatchObject({ code: 'FAULT_UNSUPPORTED', message: expect.stringContaining('aws+ssh') });
    expect(() => d.check([fault({ type: 'partition', hosts: ['db-1', 'db-2'], sides: [['db-1'], ['db-2']] })])).toThrow(/the aws fault driver cannot inject partition/);
  });

  it('refuses lab hosts: the lab driver handles them', () => {
    let err: unknown;
    try {
      fleetFaultDriver(inv([{ ...base.hosts[0]!, power: 'lab' }, ...base.hosts.slice(1)]));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).code).toBe('FAULT_LAB_HOSTS');
    expect((err as GamedayError).hint).toContain('without --inventory');
  });
});

describe('fault options from the environment', () => {
  it('are empty (every default) when nothing is set', () => {
    expect(faultOptionsFromEnv({})).toEqual({ ssh: { ssh: {} }, aws: {} });
  });

  it('reads every variable', () => {
    const o = faultOptionsFromEnv({
      GAMEDAY_SSH_USER: 'ops',
      GAMEDAY_SSH_PORT: '2222',
      GAMEDAY_SSH_IDENTITY_FILE: '/home/ops/.ssh/id_ed25519',
      GAMEDAY_SSH_KNOWN_HOSTS: '/etc/gameday/known_hosts',
      GAMEDAY_SSH_CONFIG: '/dev/null',
      GAMEDAY_SSH_HOST_KEY_CHECKING: 'accept-new',
      GAMEDAY_FAULT_SUDO: 'yes',
      GAMEDAY_FAULT_UNITS: 'mysql=mysql, db-health=, redis=redis-server@main',
      GAMEDAY_FAULT_APP_UNIT: 'notification-center',
      GAMEDAY_FAULT_PROXY_UNIT: 'haproxy@main',
      GAMEDAY_FAULT_REDIS_DATA: '/srv/redis/dump.rdb:/srv/redis/appendonlydir',
      GAMEDAY_FAULT_MARIADB: 'mysql --defaults-file=/root/.my.cnf',
      GAMEDAY_FAULT_SSH_ALLOW_FROM: '10.0.0.5, 10.1.0.0/24',
      GAMEDAY_AWS_REGION: 'eu-west-1',
      GAMEDAY_FIS_TEMPLATES: '{"zone eu-west-1a": "EXTabc123"}',
    });
    expect(o).toEqual({
      ssh: {
        ssh: { user: 'ops', port: 2222, identityFile: '/home/ops/.ssh/id_ed25519', knownHostsFile: '/etc/gameday/known_hosts', configFile: '/dev/null', hostKeyChecking: 'accept-new' },
        sudo: true,
        units: { mysql: 'mysql', 'db-health': '', redis: 'redis-server@main' },
        appUnit: 'notification-center',
        proxyUnit: 'haproxy@main',
        redisDataPaths: ['/srv/redis/dump.rdb', '/srv/redis/appendonlydir'],
        mariadbCommand: ['mysql', '--defaults-file=/root/.my.cnf'],
        allowSshFrom: ['10.0.0.5', '10.1.0.0/24'],
      },
      aws: { region: 'eu-west-1', fisTemplates: { 'zone eu-west-1a': 'EXTabc123' } },
    });
  });

  it('names the variable that is wrong', () => {
    for (const [variable, value] of [
      ['GAMEDAY_SSH_PORT', 'twenty-two'],
      ['GAMEDAY_SSH_PORT', '70000'],
      ['GAMEDAY_SSH_HOST_KEY_CHECKING', 'maybe'],
      ['GAMEDAY_FAULT_SUDO', 'sometimes'],
      ['GAMEDAY_FAULT_UNITS', 'mysql'],
      ['GAMEDAY_FAULT_UNITS', 'mysql=$(id)'],
      ['GAMEDAY_FAULT_REDIS_DATA', 'dump.rdb'],
      ['GAMEDAY_FAULT_SSH_ALLOW_FROM', 'bastion'],
      ['GAMEDAY_AWS_REGION', 'Europe'],
      ['GAMEDAY_FIS_TEMPLATES', '{zone: EXT1}'],
      ['GAMEDAY_FIS_TEMPLATES', '{"zone a": "nope"}'],
    ] as const) {
      let err: unknown;
      try {
        faultOptionsFromEnv({ [variable]: value });
      } catch (e) {
        err = e;
      }
      expect(err, `${variable}=${value}`).toBeInstanceOf(GamedayError);
      expect((err as GamedayError).code).toBe('FAULT_ENV');
      expect((err as GamedayError).input, `${variable}=${value}`).toBe(`environment variable ${variable}`);
    }
  });
});
