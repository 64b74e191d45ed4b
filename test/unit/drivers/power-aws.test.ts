import {
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  EC2Client,
  EC2ServiceException,
  RebootInstancesCommand,
  StopInstancesCommand,
  type InstanceStateName,
  type SummaryStatus,
} from '@aws-sdk/client-ec2';
import { GetCommandInvocationCommand, InvalidInstanceId, InvocationDoesNotExist, SSMClient, SendCommandCommand } from '@aws-sdk/client-ssm';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { type Host } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { AwsPowerDriver, regionOfZone, type AwsPowerOptionsInput } from '../../../drivers/power/aws.js';

// No network, no real credentials: every SDK client's send() is replaced by these mocks.
const ec2 = mockClient(EC2Client);
const ssm = mockClient(SSMClient);
beforeEach(() => {
  ec2.reset();
  ssm.reset();
});

const ID = 'i-0123456789abcdef0';
const host: Host = { name: 'db-2', tier: 'db', zone: 'eu-west-1b', rack: 'db-spread-1', address: '10.0.2.12', services: {}, power: 'aws', id: ID };
const DAY = 86_400;

function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')) {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

function driver(options: AwsPowerOptionsInput = {}, clock = fakeClock()) {
  const d = new AwsPowerDriver(options, {
    clock,
    clientConfig: { credentials: { accessKeyId: 'AKIAFAKEFORTESTS', secretAccessKey: 'fake-secret' }, maxAttempts: 1 },
  });
  return { d, clock };
}

const instance = (state: InstanceStateName, launchTime: Date) => ({
  Reservations: [{ Instances: [{ InstanceId: ID, State: { Name: state }, LaunchTime: launchTime }] }],
});
const status = (state: InstanceStateName, instanceCheck: SummaryStatus, systemCheck: SummaryStatus) => ({
  InstanceStatuses: [
    { InstanceId: ID, InstanceState: { Name: state }, InstanceStatus: { Status: instanceCheck }, SystemStatus: { Status: systemCheck } },
  ],
});
const ec2Error = (name: string, message: string, fault: 'client' | 'server' = 'client') =>
  new EC2ServiceException({ name, message, $fault: fault, $metadata: { httpStatusCode: fault === 'client' ? 403 : 503 } });
const ssmUptime = (seconds: number) => ({ Status: 'Success' as const, StandardOutputContent: `${seconds.toFixed(2)} 42.00\n` });

async function caught(p: Promise<unknown>): Promise<GamedayError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GamedayError);
  return err as GamedayError;
}

describe('aws power driver: uptime', () => {
  it('from LaunchTime by default, in the region the host zone names', async () => {
    const { d, clock } = driver();
    ec2.on(DescribeInstancesCommand, { InstanceIds: [ID] }).resolves(instance('running', new Date(clock.t - 200 * DAY * 1000)));
    expect(await d.uptimeSeconds(host)).toBe(200 * DAY);
    const call = ec2.commandCalls(DescribeInstancesCommand)[0]!;
    expect(await (call.thisValue as EC2Client).config.region()).toBe('eu-west-1');
  });

  it('takes the region option for hosts whose zone is not an AWS zone name', async () => {
    const { d, clock } = driver({ region: 'us-east-2' });
    ec2.on(DescribeInstancesCommand).resolves(instance('running', new Date(clock.t - 1000)));
    await d.uptimeSeconds({ ...host, zone: 'dc-paris' });
    expect(await (ec2.call(0).thisValue as EC2Client).config.region()).toBe('us-east-2');
    expect(regionOfZone('us-gov-west-1a')).toBe('us-gov-west-1');
    expect(regionOfZone('us-east-1-bos-1a')).toBe('us-east-1');
    expect(regionOfZone('az-a')).toBeUndefined();
  });

  it('from /proc/uptime through SSM Run Command when configured', async () => {
    const { d, clock } = driver({ uptimeSource: 'ssm', ssmPollIntervalMs: 500 });
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-1' } });
    ssm
      .on(GetCommandInvocationCommand, { CommandId: 'cmd-1', InstanceId: ID })
      .rejectsOnce(new InvocationDoesNotExist({ message: 'not yet', $metadata: {} }))
      .resolvesOnce({ Status: 'InProgress' })
      .resolves(ssmUptime(3600.5));
    expect(await d.uptimeSeconds(host)).toBe(3600.5);
    expect(ssm.commandCalls(SendCommandCommand)[0]!.args[0].input).toMatchObject({
      InstanceIds: [ID],
      DocumentName: 'AWS-RunShellScript',
      Parameters: { commands: ['cat /proc/uptime'] },
    });
    expect(ssm.commandCalls(GetCommandInvocationCommand)).toHaveLength(3);
    expect(ec2.calls()).toHaveLength(0);
    expect(clock.t).toBe(Date.parse('2025-06-01T12:00:01.500Z'));
  });

  it('falls back to LaunchTime when SSM cannot run the command', async () => {
    const { d, clock } = driver({ uptimeSource: 'ssm' });
    ssm.on(SendCommandCommand).rejects(new InvalidInstanceId({ message: 'Instances not in a valid state for account', $metadata: {} }));
    ec2.on(DescribeInstancesCommand).resolves(instance('running', new Date(clock.t - 10 * DAY * 1000)));
    expect(await d.uptimeSeconds(host)).toBe(10 * DAY);
  });

  it('refuses a host without an instance id, or with something else in id, before any API call', async () => {
    const { d } = driver();
    const missing = await caught(d.uptimeSeconds({ ...host, id: undefined }));
    expect(missing.code).toBe('POWER_AWS_NO_INSTANCE_ID');
    expect(missing.input).toBe('host db-2: id');
    expect(missing.describe()).toContain('hint: set id: i-');
    expect((await caught(d.reboot({ ...host, id: 'db-2' }))).code).toBe('POWER_AWS_BAD_INSTANCE_ID');
    expect((await caught(d.waitUntilBack({ ...host, id: undefined }, new Date(), 1000))).code).toBe('POWER_AWS_NO_INSTANCE_ID');
    expect(ec2.calls()).toHaveLength(0);
    expect(ssm.calls()).toHaveLength(0);
  });

  it('says when EC2 does not know the instance, or answers in an unexpected shape', async () => {
    const { d } = driver();
    ec2.on(DescribeInstancesCommand).resolvesOnce({ Reservations: [] }).resolves({ Reservations: [{ Instances: [{ InstanceId: ID, LaunchTime: 'yesterday' as never }] }] });
    expect(await caught(d.uptimeSeconds(host))).toMatchObject({ code: 'POWER_AWS_INSTANCE_NOT_FOUND', message: expect.stringContaining('eu-west-1') });
    expect((await caught(d.uptimeSeconds(host))).code).toBe('POWER_AWS_BAD_ANSWER');
  });

  it('surfaces an AWS API error as one clear GamedayError with the call, instance, region and a hint', async () => {
    const { d } = driver();
    ec2.on(DescribeInstancesCommand).rejects(ec2Error('UnauthorizedOperation', 'You are not authorized to perform this operation.'));
    const err = await caught(d.uptimeSeconds(host));
    expect(err.code).toBe('POWER_AWS_API');
    expect(err.describe()).toBe(
      'error POWER_AWS_API: host db-2: EC2 DescribeInstances for i-0123456789abcdef0 in eu-west-1 failed: UnauthorizedOperation: You are not authorized to perform this operation.' +
        '\n  hint: the credentials lack a permission: gameday needs ec2:DescribeInstances, ec2:DescribeInstanceStatus, ec2:RebootInstances (and ssm:SendCommand, ssm:GetCommandInvocation for SSM uptime)',
    );
  });
});

describe('aws power driver: reboot', () => {
  it('calls RebootInstances with the instance id, once, after checking it runs', async () => {
    const { d, clock } = driver();
    ec2.on(DescribeInstancesCommand).resolves(instance('running', new Date(clock.t - DAY * 1000)));
    ec2.on(RebootInstancesCommand).resolves({});
    await d.reboot(host);
    const calls = ec2.commandCalls(RebootInstancesCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({ InstanceIds: [ID] });
  });

  it('does not reboot an instance that is not running', async () => {
    const { d, clock } = driver();
    ec2.on(DescribeInstancesCommand).resolves(instance('stopped', new Date(clock.t)));
    expect(await caught(d.reboot(host))).toMatchObject({ code: 'POWER_AWS_NOT_RUNNING', message: expect.stringContaining('is stopped') });
    expect(ec2.commandCalls(RebootInstancesCommand)).toHaveLength(0);
  });

  it('reports a refused RebootInstances with a credentials hint', async () => {
    const { d, clock } = driver();
    ec2.on(DescribeInstancesCommand).resolves(instance('running', new Date(clock.t)));
    ec2.on(RebootInstancesCommand).rejects(ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials'));
    const err = await caught(d.reboot(host));
    expect(err.message).toContain('EC2 RebootInstances for i-0123456789abcdef0 in eu-west-1 failed: AuthFailure: AWS was not able');
    expect(err.hint).toContain('check the AWS credentials');
  });
});

describe('aws power driver: waitUntilBack', () => {
  it('without SSM: running with both checks ok, and not before the settle time', async () => {
    const { d, clock } = driver({ pollIntervalMs: 15_000, settleSeconds: 60 });
    const since = new Date(clock.t);
    ec2
      .on(DescribeInstanceStatusCommand, { InstanceIds: [ID], IncludeAllInstances: true })
      .resolvesOnce(status('running', 'ok', 'ok')) // t=0: not rebooted yet, as far as anyone can tell
      .resolvesOnce(status('running', 'initializing', 'ok'))
      .resolvesOnce(status('running', 'initializing', 'ok'))
      .resolves(status('running', 'ok', 'ok'));
    await d.waitUntilBack(host, since, 10 * 60_000);
    expect(ec2.commandCalls(DescribeInstanceStatusCommand)).toHaveLength(5); // 0, 15, 30, 45, 60 s
    expect(clock.t - since.getTime()).toBe(60_000);
  });

  it('with SSM: also needs /proc/uptime to show a boot after the request', async () => {
    const { d, clock } = driver({ uptimeSource: 'ssm', pollIntervalMs: 10_000, ssmPollIntervalMs: 1_000 });
    const since = new Date(clock.t);
    ec2.on(DescribeInstanceStatusCommand).resolves(status('running', 'ok', 'ok'));
    ssm.on(SendCommandCommand).resolves({ Command: { CommandId: 'cmd-2' } });
    ssm
      .on(GetCommandInvocationCommand)
      .resolvesOnce(ssmUptime(30 * DAY)) // still the old boot
      .rejectsOnce(new InvalidInstanceId({ message: 'agent offline', $metadata: {} })) // rebooting: agent gone
      .resolves(ssmUptime(5)); // new boot
    await d.waitUntilBack(host, since, 5 * 60_000);
    expect(ssm.commandCalls(SendCommandCommand)).toHaveLength(3);
  });

  it('times out with the last status it saw', async () => {
    const { d, clock } = driver({ pollIntervalMs: 15_000 });
    ec2.on(DescribeInstanceStatusCommand).resolves(status('running', 'impaired', 'ok'));
    const err = await caught(d.waitUntilBack(host, new Date(clock.t), 60_000));
    expect(err.code).toBe('POWER_AWS_NOT_BACK');
    expect(err.message).toMatch(/not back within 60 s .*last: state running, instance check impaired, system check ok/);
    expect(ec2.commandCalls(DescribeInstanceStatusCommand)).toHaveLength(4);
  });

  it('retries throttling, but fails at once on an error that waiting cannot fix', async () => {
    const { d, clock } = driver({ pollIntervalMs: 1_000, settleSeconds: 0 });
    ec2
      .on(DescribeInstanceStatusCommand)
      .rejectsOnce(ec2Error('RequestLimitExceeded', 'Request limit exceeded.'))
      .resolves(status('running', 'ok', 'ok'));
    await d.waitUntilBack(host, new Date(clock.t), 60_000);
    expect(ec2.commandCalls(DescribeInstanceStatusCommand)).toHaveLength(2);

    ec2.reset();
    const start = clock.t;
    ec2.on(DescribeInstanceStatusCommand).rejects(ec2Error('InvalidInstanceID.NotFound', `The instance ID '${ID}' does not exist`));
    const err = await caught(d.waitUntilBack(host, new Date(clock.t), 60_000));
    expect(err).toMatchObject({ code: 'POWER_AWS_API', hint: expect.stringContaining('region') });
    expect(clock.t).toBe(start);
  });
});

describe('aws power options', () => {
  it('are checked', () => {
    expect(() => new AwsPowerDriver({ region: 'Paris' })).toThrow(GamedayError);
    expect(() => new AwsPowerDriver({ uptimeSource: 'guess' as never })).toThrow(/uptimeSource/);
  });
});

describe('aws power driver: power state and the fence of last resort', () => {
  it('says off only for stopped or terminated instances: stopping still may serve', async () => {
    const { d, clock } = driver();
    for (const [state, power] of [['running', 'on'], ['stopping', 'on'], ['pending', 'on'], ['stopped', 'off'], ['terminated', 'off']] as const) {
      ec2.on(DescribeInstancesCommand).resolves(instance(state, new Date(clock.t)));
      expect(await d.powerState(host)).toBe(power);
    }
  });

  it('cuts power with a forced StopInstances and resolves once EC2 says stopped', async () => {
    const { d, clock } = driver();
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(DescribeInstancesCommand).resolvesOnce(instance('stopping', new Date(clock.t))).resolves(instance('stopped', new Date(clock.t)));
    await d.powerOff(host);
    expect(ec2.commandCalls(StopInstancesCommand)[0]!.args[0].input).toEqual({ InstanceIds: [ID], Force: true });
  });

  it('fails when the instance never stops', async () => {
    const { d, clock } = driver();
    ec2.on(StopInstancesCommand).resolves({});
    ec2.on(DescribeInstancesCommand).resolves(instance('stopping', new Date(clock.t)));
    expect(await caught(d.powerOff(host, 10_000))).toMatchObject({ code: 'POWER_AWS_NOT_STOPPED' });
  });
});
