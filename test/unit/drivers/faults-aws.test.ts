import { DescribeInstancesCommand, EC2Client, EC2ServiceException, StartInstancesCommand, StopInstancesCommand, type InstanceStateName } from '@aws-sdk/client-ec2';
import { FisClient, GetExperimentCommand, ListExperimentsCommand, StartExperimentCommand, StopExperimentCommand, type ExperimentStatus } from '@aws-sdk/client-fis';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseInventory, type Inventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import { awsFaultDriver, FIS_FAULT_TAG, type AwsFaultOptionsInput } from '../../../drivers/faults/aws.js';

// No network, no real credentials: every SDK client's send() is replaced by these mocks.
/**
 * @aws-sdk/client-fis 3.523 (the newest the registry here serves) is typed against older
 * @smithy/types than aws-sdk-client-mock: its stub is used through this narrow interface.
 */
interface LooseBehavior {
  resolves(answer: unknown): LooseBehavior;
  resolvesOnce(answer: unknown): LooseBehavior;
}
interface LooseStub {
  reset(): void;
  on(command: unknown): LooseBehavior;
  commandCalls(command: unknown): Array<{ args: [{ input: unknown }]; thisValue: unknown }>;
}

const ec2 = mockClient(EC2Client);
const fis = mockClient(FisClient as never) as unknown as LooseStub;
beforeEach(() => {
  ec2.reset();
  fis.reset();
});

const ID = { db1: 'i-0aaaaaaaaaaaaaaa1', db2: 'i-0aaaaaaaaaaaaaaa2', proxy1: 'i-0bbbbbbbbbbbbbbb1', east: 'i-0ccccccccccccccc1' };

const inventory: Inventory = parseInventory(
  {
    name: 'aws',
    tiers: { db: {}, 'db-proxy': {}, web: {}, redis: {} },
    hosts: [
      { name: 'db-1', tier: 'db', role: 'primary', zone: 'eu-west-1a', rack: 'db-pg-1', address: '10.0.1.11', services: { mysql: 3306 }, power: 'aws', id: ID.db1 },
      { name: 'db-2', tier: 'db', role: 'replica', zone: 'eu-west-1b', rack: 'db-pg-2', address: '10.0.2.11', services: { mysql: 3306 }, power: 'aws', id: ID.db2 },
      { name: 'db-proxy-1', tier: 'db-proxy', zone: 'eu-west-1a', rack: 'px-pg-1', address: '10.0.1.21', services: { mysql: 3306 }, power: 'aws', id: ID.proxy1 },
      { name: 'db-9', tier: 'db', role: 'replica', zone: 'us-east-1c', rack: 'db-pg-9', address: '10.9.0.11', services: { mysql: 3306 }, power: 'aws', id: ID.east },
      { name: 'web-1', tier: 'web', zone: 'eu-west-1a', rack: 'web-pg-1', address: 'asg/gameday-web-1/web-1', services: { http: 80 }, power: 'aws', id: 'asg/gameday-web-1' },
      { name: 'redis-1', tier: 'redis', role: 'primary', zone: 'eu-west-1a', rack: 'cache-1', address: 'cache-001.abc.euw1.cache.amazonaws.com', services: { redis: 6379 }, power: 'aws' },
    ],
  },
  'aws inventory',
);

const fault = (f: Partial<ResolvedFault> & Pick<ResolvedFault, 'hosts'>): ResolvedFault => ({ id: 'loss', type: 'power-off', label: f.hosts.join(', '), atMs: 0, ...f });

function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')) {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

function driver(options: AwsFaultOptionsInput = {}, clock = fakeClock()) {
  return awsFaultDriver(inventory, { pollIntervalMs: 1000, ...options }, {
    clock,
    clientConfig: { credentials: { accessKeyId: 'AKIAFAKEFORTESTS', secretAccessKey: 'fake-secret' }, maxAttempts: 1 },
  });
}

const reservation = (states: Record<string, InstanceStateName>) => ({
  Reservations: [{ Instances: Object.entries(states).map(([InstanceId, Name]) => ({ InstanceId, State: { Name } })) }],
});

async function caught(p: Promise<unknown> | (() => unknown)): Promise<GamedayError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GamedayError);
  return err as GamedayError;
}

const regionOf = async (call: { thisValue: unknown }) => (call.thisValue as EC2Client | FisClient).config.region();

describe('aws fault driver: power-off by StopInstances', () => {
  it('supports power-off only, and says so for anything else', async () => {
    const d = driver();
    expect(d.kind).toBe('aws');
    expect(d.supports).toEqual(['power-off']);
    for (const type of ['kill-process', 'stop-replication', 'partition', 'redis-data-loss'] as const) {
      const e = await caught(d.inject(fault({ type, hosts: ['db-1'], service: 'mysql' })));
      expect(e.code).toBe('FAULT_UNSUPPORTED');
      expect(e.hint).toBe('it supports: power-off');
    }
    expect(ec2.calls()).toHaveLength(0);
  });

  it('stops with Force (a power loss, not a shutdown), one call per region with that region\'s ids', async () => {
    ec2.on(StopInstancesCommand).resolves({});
    const r = await driver().inject(fault({ label: 'zone-ish', hosts: ['db-1', 'db-proxy-1', 'db-9'] }));
    expect(r).toEqual({ stopped: { 'eu-west-1': [ID.db1, ID.proxy1], 'us-east-1': [ID.east] } });
    const calls = ec2.commandCalls(StopInstancesCommand);
    expect(calls).toHaveLength(2);
    const byRegion = Object.fromEntries(await Promise.all(calls.map(async (c) => [await regionOf(c), c.args[0].input] as const)));
    expect(byRegion).toEqual({
      'eu-west-1': { InstanceIds: [ID.db1, ID.proxy1], Force: true },
      'us-east-1': { InstanceIds: [ID.east], Force: true },
    });
  });

  it('takes the region option for a zone that is not an AWS zone name', async () => {
    const inv = { ...inventory, hosts: [{ ...inventory.hosts[0]!, zone: 'dc-paris' }] };
    ec2.on(StopInstancesCommand).resolves({});
    await awsFaultDriver(inv, { region: 'eu-central-1' }, { clientConfig: { credentials: { accessKeyId: 'AKIAFAKE', secretAccessKey: 'x' } } }).inject(fault({ hosts: ['db-1'] }));
    expect(await regionOf(ec2.commandCalls(StopInstancesCommand)[0]!)).toBe('eu-central-1');
  });

  it('refuses a host without an EC2 instance id, naming it, before any call (check() says so at plan time)', async () => {
    const d = driver();
    for (const [host, shown] of [
      ['redis-1', 'an aws host needs its EC2 instance id'],
      ['web-1', '"asg/gameday-web-1" is not an EC2 instance id'],
    ] as const) {
      const e = await caught(() => d.check([fault({ label: 'rack x', hosts: ['db-1', host] })]));
      expect(e.code).toBe('FAULT_NO_INSTANCE');
      expect(e.message).toContain(`${host} cannot lose power on aws`);
      expect(e.message).toContain(shown);
      expect(e.input).toBe(`host ${host}: id`);
      expect(e.hint).toContain('FIS experiment template');
      await expect(d.inject(fault({ hosts: ['db-1', host] }))).rejects.toMatchObject({ code: 'FAULT_NO_INSTANCE' });
    }
    expect(ec2.calls()).toHaveLength(0);
    expect(() => d.check([fault({ hosts: ['db-1', 'db-9'] })])).not.toThrow();
  });

  it('says which AWS error stopped it, with a hint', async () => {
    ec2.on(StopInstancesCommand).rejects(new EC2ServiceException({ name: 'UnauthorizedOperation', message: 'You are not authorized to perform this operation.', $fault: 'client', $metadata: { httpStatusCode: 403 } }));
    const e = await caught(driver().inject(fault({ hosts: ['db-1'] })));
    expect(e.message).toContain('EC2 StopInstances for i-0aaaaaaaaaaaaaaa1 in eu-west-1 failed: UnauthorizedOperation');
    expect(e.hint).toContain('lack a permission');
  });
});

describe('aws fault driver: undo by StartInstances', () => {
  it('waits for a stopping instance, starts it once stopped, and returns once all run', async () => {
    const clock = fakeClock();
    ec2
      .on(DescribeInstancesCommand)
      .resolvesOnce(reservation({ [ID.db1]: 'stopping', [ID.proxy1]: 'stopped' }))
      .resolvesOnce(reservation({ [ID.db1]: 'stopped', [ID.proxy1]: 'pending' }))
      .resolvesOnce(reservation({ [ID.db1]: 'pending', [ID.proxy1]: 'running' }))
      .resolves(reservation({ [ID.db1]: 'running', [ID.proxy1]: 'running' }));
    ec2.on(StartInstancesCommand).resolves({});
    const r = await driver({}, clock).undo(fault({ hosts: ['db-1', 'db-proxy-1'] }));
    expect(r).toEqual({ started: { 'eu-west-1': [ID.db1, ID.proxy1] } });
    expect(ec2.commandCalls(StartInstancesCommand).map((c) => c.args[0].input)).toEqual([{ InstanceIds: [ID.proxy1] }, { InstanceIds: [ID.db1] }]);
    expect(ec2.commandCalls(DescribeInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: [ID.db1, ID.proxy1] });
    expect(clock.t - Date.parse('2025-06-01T12:00:00Z')).toBe(3000);
  });

  it('is a no-op on instances already running (it can run again)', async () => {
    ec2.on(DescribeInstancesCommand).resolves(reservation({ [ID.db1]: 'running' }));
    const d = driver();
    await d.undo(fault({ hosts: ['db-1'] }));
    await d.undo(fault({ hosts: ['db-1'] }));
    expect(ec2.commandCalls(StartInstancesCommand)).toHaveLength(0);
  });

  it('fails clearly for a terminated instance, and after the timeout for one that never runs', async () => {
    ec2.on(DescribeInstancesCommand).resolves(reservation({ [ID.db1]: 'terminated' }));
    const gone = await caught(driver().undo(fault({ hosts: ['db-1'] })));
    expect(gone.code).toBe('FAULT_INSTANCE_GONE');
    expect(gone.hint).toContain('Auto Scaling');

    ec2.reset();
    ec2.on(DescribeInstancesCommand).resolves(reservation({ [ID.db1]: 'pending' }));
    const stuck = await caught(driver({ startTimeoutMs: 10_000 }).undo(fault({ hosts: ['db-1'] })));
    expect(stuck.code).toBe('FAULT_NOT_RUNNING');
    expect(stuck.message).toContain(`${ID.db1} pending`);
  });
});

describe('aws fault driver: FIS experiments', () => {
  const TEMPLATE = 'EXTzoneA1b2c3';
  const experiment = (id: string, status: ExperimentStatus, reason?: string) => ({ experiment: { id, state: { status, ...(reason ? { reason } : {}) } } });

  it('starts the template mapped to the fault label, tagged with the fault id, and waits until it runs', async () => {
    fis.on(StartExperimentCommand).resolves(experiment('EXP1', 'initiating'));
    fis.on(GetExperimentCommand).resolvesOnce(experiment('EXP1', 'initiating')).resolves(experiment('EXP1', 'running'));
    const d = driver({ fisTemplates: { 'zone eu-west-1a': TEMPLATE } });
    // ElastiCache nodes and Auto Scaling members are fine: the template picks its own targets.
    const f = fault({ label: 'zone eu-west-1a', hosts: ['db-1', 'db-proxy-1', 'web-1', 'redis-1'] });
    d.check([f]);
    expect(await d.inject(f)).toEqual({ experiment: 'EXP1', template: TEMPLATE, region: 'eu-west-1' });
    const start = fis.commandCalls(StartExperimentCommand)[0]!;
    expect(start.args[0].input).toEqual({ experimentTemplateId: TEMPLATE, tags: { [FIS_FAULT_TAG]: 'loss', 'gameday:label': 'zone eu-west-1a' } });
    expect(await regionOf(start)).toBe('eu-west-1');
    expect(ec2.calls()).toHaveLength(0);
  });

  it('fails the inject when the experiment fails (a stop condition, a permission), with FIS\'s reason', async () => {
    fis.on(StartExperimentCommand).resolves(experiment('EXP2', 'initiating'));
    fis.on(GetExperimentCommand).resolves(experiment('EXP2', 'failed', 'Stop condition alarm is in ALARM'));
    const e = await caught(driver({ fisTemplates: { 'zone eu-west-1a': TEMPLATE } }).inject(fault({ label: 'zone eu-west-1a', hosts: ['db-1'] })));
    expect(e.code).toBe('FAULT_FIS');
    expect(e.message).toContain('ended failed: Stop condition alarm is in ALARM');
  });

  it('undo stops every experiment of the template still active with this fault\'s tag (found by listing, for an abort from another process)', async () => {
    fis.on(ListExperimentsCommand).resolvesOnce({
      experiments: [
        { id: 'EXP-A', experimentTemplateId: TEMPLATE, state: { status: 'running' }, tags: { [FIS_FAULT_TAG]: 'loss' } },
        { id: 'EXP-OTHER-FAULT', experimentTemplateId: TEMPLATE, state: { status: 'running' }, tags: { [FIS_FAULT_TAG]: 'other' } },
        { id: 'EXP-DONE', experimentTemplateId: TEMPLATE, state: { status: 'completed' }, tags: { [FIS_FAULT_TAG]: 'loss' } },
      ],
      nextToken: 'page-2',
    }).resolvesOnce({
      experiments: [{ id: 'EXP-B', experimentTemplateId: TEMPLATE, state: { status: 'initiating' }, tags: { [FIS_FAULT_TAG]: 'loss' } }, { id: 'EXP-OTHER-TEMPLATE', experimentTemplateId: 'EXTother', state: { status: 'running' }, tags: { [FIS_FAULT_TAG]: 'loss' } }],
    });
    fis.on(StopExperimentCommand).resolves({});
    fis.on(GetExperimentCommand).resolves(experiment('x', 'stopped'));
    const r = await driver({ fisTemplates: { 'zone eu-west-1a': TEMPLATE } }).undo(fault({ label: 'zone eu-west-1a', hosts: ['db-1'] }));
    expect(r).toEqual({ stoppedExperiments: ['EXP-A', 'EXP-B'] });
    expect(fis.commandCalls(StopExperimentCommand).map((c) => c.args[0].input)).toEqual([{ id: 'EXP-A' }, { id: 'EXP-B' }]);
    expect(fis.commandCalls(ListExperimentsCommand)[1]!.args[0].input).toMatchObject({ nextToken: 'page-2' });
  });

  it('undo with nothing left running stops nothing (it can run again)', async () => {
    fis.on(ListExperimentsCommand).resolves({ experiments: [] });
    expect(await driver({ fisTemplates: { 'zone eu-west-1a': TEMPLATE } }).undo(fault({ label: 'zone eu-west-1a', hosts: ['db-1'] }))).toEqual({ stoppedExperiments: [] });
    expect(fis.commandCalls(StopExperimentCommand)).toHaveLength(0);
  });

  it('refuses bad template ids and a fault over two regions', async () => {
    expect((await caught(() => driver({ fisTemplates: { 'zone a': 'not-a-template' } }))).code).toBe('FAULT_OPTIONS');
    const e = await caught(() => driver({ fisTemplates: { 'both': TEMPLATE } }).check([fault({ label: 'both', hosts: ['db-1', 'db-9'] })]));
    expect(e.code).toBe('FAULT_FIS_REGIONS');
  });
});
