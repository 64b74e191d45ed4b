import { readFileSync } from 'node:fs';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, EnterStandbyCommand, ExitStandbyCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceStatusCommand, DescribeInstancesCommand, EC2Client, RebootInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DescribeCacheClustersCommand, DescribeReplicationGroupsCommand, ElastiCacheClient, RebootCacheClusterCommand, TestFailoverCommand } from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { parseInventory, type Host, type Inventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { AsgPowerDriver } from '../../../drivers/power/asg.js';
import { ElastiCachePowerDriver } from '../../../drivers/power/elasticache.js';
import { fleetFromEnvironment } from '../../../cli/wiring/fleetFromEnv.js';
import { requireRunbook } from '../../../runbooks/registry.js';
import { planRun } from '../../../engine/index.js';

// No network: every SDK client's send() is answered by these fakes, which keep their state.
const asg = mockClient(AutoScalingClient);
const ec2 = mockClient(EC2Client);
const elb = mockClient(ElasticLoadBalancingV2Client);
const cache = mockClient(ElastiCacheClient);
const calls: string[] = [];
const DAY = 86_400_000;
const NOW = Date.parse('2026-06-01T03:00:00Z');
const credentials = { accessKeyId: 'AKIAFAKEFORTESTS', secretAccessKey: 'fake-secret' };

function fakeClock() {
  const c = { t: NOW, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

const stack: Inventory = parseInventory(JSON.parse(readFileSync('test/fixtures/pulumi-outputs.json', 'utf8')).inventory, 'pulumi-outputs.json');
const host = (name: string) => stack.hosts.find((h) => h.name === name)!;
const GROUP = 'gameday-dev-web-1';
/** The web group: two instances per zone; ids sort so that the slot order is clear. */
const members = new Map<string, { zone: string; lifecycle: string }>([
  ['i-0aaa0000000000001', { zone: 'us-east-1a', lifecycle: 'InService' }],
  ['i-0aaa0000000000002', { zone: 'us-east-1a', lifecycle: 'InService' }],
  ['i-0bbb0000000000001', { zone: 'us-east-1b', lifecycle: 'InService' }],
  ['i-0bbb0000000000002', { zone: 'us-east-1b', lifecycle: 'InService' }],
  ['i-0ccc0000000000001', { zone: 'us-east-1c', lifecycle: 'InService' }],
  ['i-0ccc0000000000002', { zone: 'us-east-1c', lifecycle: 'Terminating' }],
  ['i-0ccc0000000000003', { zone: 'us-east-1c', lifecycle: 'InService' }],
]);
/** ElastiCache's replication group: which cache cluster is primary. */
let cachePrimary = 'gd-dev-redis-001';
let minSize = 5;

beforeEach(() => {
  for (const m of [asg, ec2, elb, cache]) m.reset();
  calls.length = 0;
  for (const [id, m] of members) m.lifecycle = id === 'i-0ccc0000000000002' ? 'Terminating' : 'InService';
  cachePrimary = 'gd-dev-redis-001';
  minSize = 5;
  asg.on(DescribeAutoScalingGroupsCommand).callsFake(() => {
    // Transitions complete one describe later, as the real group's do.
    for (const m of members.values()) {
      if (m.lifecycle === 'EnteringStandby') m.lifecycle = 'Standby';
      if (m.lifecycle === 'Pending') m.lifecycle = 'InService';
    }
    return {
      AutoScalingGroups: [
        {
          AutoScalingGroupName: GROUP,
          TargetGroupARNs: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc'],
          Instances: [...members].map(([InstanceId, m]) => ({ InstanceId, AvailabilityZone: m.zone, LifecycleState: m.lifecycle })),
        },
      ],
    };
  });
  asg.on(EnterStandbyCommand).callsFake((input) => {
    calls.push(`EnterStandby ${input.InstanceIds[0]} decrement=${input.ShouldDecrementDesiredCapacity}`);
    if (input.ShouldDecrementDesiredCapacity && minSize >= 6) throw Object.assign(new Error(`AutoScalingGroup ${GROUP} has min-size=6, max-size=6, and desired-size=6. Cannot decrement`), { name: 'ValidationError' });
    members.get(input.InstanceIds[0])!.lifecycle = 'EnteringStandby';
    return {};
  });
  asg.on(ExitStandbyCommand).callsFake((input) => {
    calls.push(`ExitStandby ${input.InstanceIds[0]}`);
    members.get(input.InstanceIds[0])!.lifecycle = 'Pending';
    return {};
  });
  ec2.on(DescribeInstancesCommand).callsFake((input) => ({
    Reservations: [{ Instances: input.InstanceIds.map((InstanceId: string) => ({ InstanceId, LaunchTime: new Date(NOW - 200 * DAY), State: { Name: 'running' }, PrivateIpAddress: '10.40.1.7' })) }],
  }));
  ec2.on(RebootInstancesCommand).callsFake((input) => {
    calls.push(`RebootInstances ${input.InstanceIds[0]}`);
    return {};
  });
  ec2.on(DescribeInstanceStatusCommand).callsFake((input) => ({
    InstanceStatuses: [{ InstanceId: input.InstanceIds[0], InstanceState: { Name: 'running' }, InstanceStatus: { Status: 'ok' }, SystemStatus: { Status: 'ok' } }],
  }));
  elb.on(DescribeTargetHealthCommand).callsFake((input) => {
    calls.push(`DescribeTargetHealth ${input.Targets[0].Id}`);
    return { TargetHealthDescriptions: [{ Target: { Id: input.Targets[0].Id }, TargetHealth: { State: 'healthy' } }] };
  });
  cache.on(DescribeCacheClustersCommand).callsFake((input) => ({
    CacheClusters: [
      { CacheClusterId: input.CacheClusterId, CacheClusterStatus: 'available', ReplicationGroupId: 'gd-dev-redis', CacheNodes: [{ CacheNodeId: '0001', CacheNodeStatus: 'available', CacheNodeCreateTime: new Date(NOW - 190 * DAY) }] },
    ],
  }));
  cache.on(DescribeReplicationGroupsCommand).callsFake(() => ({
    ReplicationGroups: [
      {
        ReplicationGroupId: 'gd-dev-redis',
        Status: 'available',
        NodeGroups: [{ NodeGroupId: '0001', NodeGroupMembers: ['001', '002', '003'].map((n) => ({ CacheClusterId: `gd-dev-redis-${n}`, CurrentRole: `gd-dev-redis-${n}` === cachePrimary ? 'primary' : 'replica' })) }],
      },
    ],
  }));
  cache.on(TestFailoverCommand).callsFake((input) => {
    calls.push(`TestFailover ${input.ReplicationGroupId}/${input.NodeGroupId}`);
    cachePrimary = 'gd-dev-redis-002';
    return {};
  });
  cache.on(RebootCacheClusterCommand).callsFake((input) => {
    calls.push(`RebootCacheCluster ${input.CacheClusterId} ${input.CacheNodeIdsToReboot.join(',')}`);
    return {};
  });
});

const asgDriver = (clock = fakeClock()) => new AsgPowerDriver(stack, { settleSeconds: 0, pollIntervalMs: 1000 }, { clock, clientConfig: { credentials, maxAttempts: 1 } });
const cacheDriver = (clock = fakeClock()) => new ElastiCachePowerDriver({ pollIntervalMs: 1000, settleSeconds: 30 }, { clock, clientConfig: { credentials, maxAttempts: 1 } });

describe('Auto Scaling members (power: aws-asg)', () => {
  it('resolves each slot to the instance of its rank in its zone, skipping instances on their way out', async () => {
    const d = asgDriver();
    expect(await d.instanceOf(host('web-1'))).toBe('i-0aaa0000000000001');
    expect(await d.instanceOf(host('web-4'))).toBe('i-0aaa0000000000002');
    expect(await d.instanceOf(host('web-3'))).toBe('i-0ccc0000000000001');
    expect(await d.instanceOf(host('web-6'))).toBe('i-0ccc0000000000003');
    expect(Math.round(await d.uptimeSeconds(host('web-5')))).toBe(200 * 86_400);
  });

  it('takes the member out through its group: standby (the ALB drains it), reboot, back, out of standby, healthy behind the ALB', async () => {
    const d = asgDriver();
    const since = new Date(NOW);
    await d.reboot(host('web-4'));
    expect(members.get('i-0aaa0000000000002')!.lifecycle).toBe('Standby');
    await d.waitUntilBack(host('web-4'), since, 600_000);
    expect(calls).toEqual(['EnterStandby i-0aaa0000000000002 decrement=true', 'RebootInstances i-0aaa0000000000002', 'ExitStandby i-0aaa0000000000002', 'DescribeTargetHealth i-0aaa0000000000002']);
    expect(members.get('i-0aaa0000000000002')!.lifecycle).toBe('InService');
  });

  it('at its minimum size, stands the member by without shrinking the group (it launches a stand-in)', async () => {
    minSize = 6;
    await asgDriver().reboot(host('web-2'));
    expect(calls).toEqual(['EnterStandby i-0bbb0000000000001 decrement=true', 'EnterStandby i-0bbb0000000000001 decrement=false', 'RebootInstances i-0bbb0000000000001']);
  });

  it('says which slot has no instance when the group is below its size', async () => {
    members.get('i-0aaa0000000000002')!.lifecycle = 'Terminated';
    const err = await asgDriver().instanceOf(host('web-4')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).message).toBe('group gameday-dev-web-1 has 1 instance(s) in us-east-1a for 2 slot(s); slot web-4 has none');
  });
});

describe('ElastiCache nodes (power: elasticache)', () => {
  it('fails the group over before rebooting its primary, and reboots a replica at once', async () => {
    const d = cacheDriver();
    await d.reboot(host('redis-1'));
    expect(calls).toEqual(['TestFailover gd-dev-redis/0001', 'RebootCacheCluster gd-dev-redis-001 0001']);
    calls.length = 0;
    await d.reboot(host('redis-3'));
    expect(calls).toEqual(['RebootCacheCluster gd-dev-redis-003 0001']);
  });

  it('reads the uptime as an upper bound from the node\'s create time, and waits the settle time before "back"', async () => {
    const clock = fakeClock();
    const d = cacheDriver(clock);
    expect(Math.round(await d.uptimeSeconds(host('redis-2')))).toBe(190 * 86_400);
    await d.waitUntilBack(host('redis-2'), new Date(NOW), 600_000);
    expect(clock.t - NOW).toBeGreaterThanOrEqual(30_000);
  });
});

describe('the Pulumi stack\'s inventory, as exported', () => {
  it('plans reboot-stale without error: web slots, instances and cache nodes all found stale, a switchover only for the MariaDB primary', async () => {
    const fleet = fleetFromEnvironment(stack, { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey });
    const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d' }, { inventory: stack, env: { fleet } });
    const plan = view.plan as { stale: string[]; refused: unknown[] };
    expect([...plan.stale].sort()).toEqual(stack.hosts.map((h) => h.name).sort());
    expect(plan.refused).toEqual([]);
    const handOffs = view.steps.filter((s) => s.id.endsWith('/hand-off')).map((s) => s.title);
    expect(handOffs.filter((t) => t.includes('MariaDB'))).toEqual(["switch db's MariaDB primary away from db-1 if it is the primary then (the inventory names it db's primary)", "switch db's MariaDB primary away from db-2 if it is the primary then", "switch db's MariaDB primary away from db-3 if it is the primary then"]);
    // ElastiCache fails over in its reboot (no Sentinels), web members drain through their group: no hand-off step.
    expect(view.steps.filter((s) => s.id.endsWith('/hand-off') && /redis|web/.test(s.target ?? ''))).toEqual([]);
  });

  it('does not reboot again a host gameday rebooted since: LaunchTime and node create times do not move on a reboot', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { fileRebootLedger } = await import('../../../runbooks/planning/rebootLedger.js');
    const stateDir = mkdtempSync(join(tmpdir(), 'gd-ledger-'));
    try {
      const ledger = fileRebootLedger(stateDir);
      // Yesterday's run rebooted db-1, redis-2 and web-4 (their API uptimes still say 190-200 days).
      for (const h of ['db-1', 'redis-2', 'web-4']) ledger.record(h, new Date(Date.now() - 86_400_000));
      const fleet = { ...fleetFromEnvironment(stack, { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey }), reboots: fileRebootLedger(stateDir) };
      const view = await planRun(requireRunbook('reboot-stale'), { maxUptime: '180d' }, { inventory: stack, env: { fleet } });
      const plan = view.plan as { stale: string[]; uptimes: Record<string, number> };
      expect(plan.stale).not.toContain('db-1');
      expect(plan.stale).not.toContain('redis-2');
      expect(plan.stale).not.toContain('web-4');
      expect(plan.stale).toHaveLength(stack.hosts.length - 3);
      expect(Math.round(plan.uptimes['db-1']! / 3600)).toBe(24);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
