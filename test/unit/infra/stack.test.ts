import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { TAG } from '../../../infra/naming.js';
import { hostsFromResources, tagsOf, TYPES } from '../../../infra/policy/resources.js';
import { parseInventory, placementCheck, type Inventory } from '../../../topology/index.js';
import { configWith, runStack, valueOf, type MockedRun, type RecordedResource } from './mocks.js';

const fixture = fileURLToPath(new URL('../../fixtures/pulumi-outputs.json', import.meta.url));

/** Resource types that take no tags in AWS. */
const UNTAGGABLE = new Set([
  'pulumi:providers:aws',
  'gameday:infra:Stack',
  'aws:ec2/routeTableAssociation:RouteTableAssociation',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:scheduler/schedule:Schedule',
  'aws:efs/mountTarget:MountTarget',
]);

function ofType(run: MockedRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

function policyStatements(run: MockedRun, name: string): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  const policy = run.resources.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === name)!;
  return JSON.parse(policy.inputs.policy).Statement;
}

describe('the default stack (Pulumi mocks)', () => {
  let run: MockedRun;
  let inv: Inventory;
  beforeAll(async () => {
    run = await runStack(configWith(), 'dev');
    inv = parseInventory(run.inventory, 'stack output inventory');
  });

  it('exports an inventory that passes placement check', () => {
    const check = placementCheck(inv);
    expect(check.violations).toEqual([]);
    expect(check.breaks.filter((b) => !b.startsWith('host '))).toEqual([]);
    expect(check.ok).toBe(true);
    const count = (tier: string) => inv.hosts.filter((h) => h.tier === tier).length;
    expect({ web: count('web'), db: count('db'), 'db-proxy': count('db-proxy'), redis: count('redis') }).toEqual({ web: 6, db: 3, 'db-proxy': 2, redis: 3 });
    expect(new Set(inv.hosts.map((h) => h.zone))).toEqual(new Set(['us-east-1a', 'us-east-1b', 'us-east-1c']));
    // EC2 instances by id, web members through their Auto Scaling group, Redis nodes through ElastiCache.
    const powerOf = (tier: string) => [...new Set(inv.hosts.filter((h) => h.tier === tier).map((h) => h.power))];
    expect({ web: powerOf('web'), db: powerOf('db'), 'db-proxy': powerOf('db-proxy'), redis: powerOf('redis') }).toEqual({ web: ['aws-asg'], db: ['aws'], 'db-proxy': ['aws'], redis: ['elasticache'] });
  });

  it('gives the inventory real addresses and ids where AWS knows them', () => {
    const db1 = inv.hosts.find((h) => h.name === 'db-1')!;
    expect(db1).toMatchObject({ role: 'primary', zone: 'us-east-1a', rack: 'gameday-dev-db-1' });
    expect(db1.id).toMatch(/^i-[0-9a-f]{17}$/);
    expect(db1.address).toMatch(/^10\.40\.\d+\.\d+$/);
    expect(inv.hosts.find((h) => h.name === 'redis-2')).toMatchObject({
      role: 'replica',
      zone: 'us-east-1b',
      id: 'gd-dev-redis-002',
      address: 'gd-dev-redis-002.abc123.0001.use1.cache.amazonaws.com',
    });
    expect(inv.hosts.find((h) => h.name === 'web-4')).toMatchObject({ zone: 'us-east-1a', rack: 'gameday-dev-web-1', address: 'asg/gameday-dev-web-1/web-4', id: 'gameday-dev-web-1' });
    expect(inv.hosts.find((h) => h.name === 'db-proxy-1')!.services).toEqual({ mysql: 3306, 'haproxy-admin': 9999 });
    expect(inv.pools.map((p) => [p.name, p.servers])).toEqual([
      ['db-write', ['db-1', 'db-2', 'db-3']],
      ['db-read', ['db-2', 'db-3']],
    ]);
  });

  it('tags every taggable resource with stack, tier and role, and instances with zone and rack', () => {
    for (const r of run.resources.filter((x) => !UNTAGGABLE.has(x.type))) {
      const tags = tagsOf({ ...r, props: r.inputs });
      expect({ resource: `${r.type} ${r.name}`, stack: tags[TAG.stack], tier: !!tags[TAG.tier], role: !!tags[TAG.role] }).toEqual({
        resource: `${r.type} ${r.name}`,
        stack: 'dev',
        tier: true,
        role: true,
      });
    }
    for (const r of ofType(run, TYPES.instance)) {
      const host = inv.hosts.find((h) => h.name === r.name)!;
      expect(r.inputs.tags).toMatchObject({ tier: host.tier, zone: host.zone, rack: host.rack, role: host.role ?? 'member' });
    }
    const asgTags = tagsOf({ ...ofType(run, TYPES.autoScalingGroup)[0]!, props: ofType(run, TYPES.autoScalingGroup)[0]!.inputs });
    expect(asgTags).toMatchObject({ tier: 'web', rack: 'gameday-dev-web-1', zone: 'us-east-1a us-east-1b us-east-1c' });
  });

  it('puts every EC2 member in a rack-level spread group of its tier', () => {
    const groups = ofType(run, TYPES.placementGroup);
    expect(groups.map((g) => g.inputs.name).sort()).toEqual(['gameday-dev-db-1', 'gameday-dev-db-proxy-1', 'gameday-dev-web-1']);
    for (const g of groups) expect(g.inputs).toMatchObject({ strategy: 'spread', spreadLevel: 'rack' });
    for (const r of ofType(run, TYPES.instance)) expect(r.inputs.placementGroup).toBe(r.inputs.tags.rack);
    const [asg] = ofType(run, TYPES.autoScalingGroup);
    expect(asg!.inputs).toMatchObject({ placementGroup: 'gameday-dev-web-1', desiredCapacity: 6, minSize: 6, maxSize: 6 });
    expect(asg!.inputs.vpcZoneIdentifiers).toHaveLength(3);
  });

  it('matches what the policy pack rebuilds from the resources', () => {
    const rebuilt = hostsFromResources(run.resources.map((r) => ({ ...r, props: r.inputs })));
    const shape = (hs: { tier: string; zone: string; rack: string }[]) => hs.map((h) => `${h.tier} ${h.zone} ${h.rack}`).sort();
    expect(shape(rebuilt)).toEqual(shape(inv.hosts));
  });

  it('puts the web tier behind an ALB with slow start and a weighted forward action', () => {
    expect(ofType(run, 'aws:lb/targetGroup:TargetGroup')[0]!.inputs.slowStart).toBe(120);
    const action = ofType(run, 'aws:lb/listener:Listener')[0]!.inputs.defaultActions[0];
    expect(action.forward.targetGroups[0].weight).toBe(100);
    expect(ofType(run, 'aws:lb/loadBalancer:LoadBalancer')[0]!.inputs.subnets).toHaveLength(3);
  });

  it('runs Redis on ElastiCache with failover, Multi-AZ and one node per zone', () => {
    expect(ofType(run, TYPES.replicationGroup)[0]!.inputs).toMatchObject({
      replicationGroupId: 'gd-dev-redis',
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      numCacheClusters: 3,
      preferredCacheClusterAzs: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
    });
  });

  it('builds a private and a public subnet and a NAT gateway in each zone', () => {
    const subnets = ofType(run, 'aws:ec2/subnet:Subnet');
    expect(subnets.map((s) => s.name).sort()).toEqual(
      ['private-us-east-1a', 'private-us-east-1b', 'private-us-east-1c', 'public-us-east-1a', 'public-us-east-1b', 'public-us-east-1c'],
    );
    expect(ofType(run, 'aws:ec2/natGateway:NatGateway')).toHaveLength(3);
  });

  it('has a FIS template per rack and per zone, each stopped by both alarms', async () => {
    const racks = await valueOf(run.stack.outputs.rackExperiments);
    expect(Object.keys(racks).sort()).toEqual([
      'gameday-dev-db-1/us-east-1a',
      'gameday-dev-db-1/us-east-1b',
      'gameday-dev-db-1/us-east-1c',
      'gameday-dev-db-proxy-1/us-east-1a',
      'gameday-dev-db-proxy-1/us-east-1b',
      'gameday-dev-web-1/us-east-1a',
      'gameday-dev-web-1/us-east-1b',
      'gameday-dev-web-1/us-east-1c',
    ]);
    expect(Object.keys(await valueOf(run.stack.outputs.zoneExperiments))).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    const templates = ofType(run, TYPES.experimentTemplate);
    expect(templates).toHaveLength(11);
    const alarms = ofType(run, 'aws:cloudwatch/metricAlarm:MetricAlarm');
    for (const t of templates) {
      expect(t.inputs.stopConditions.map((c: { value: string }) => c.value).sort()).toEqual(alarms.map((a) => `arn:aws:mock:${a.type}:${a.name}`).sort());
    }
    const rack = templates.find((t) => t.name === 'rack-db-proxy-1-1b')!;
    expect(rack.inputs.targets[0]).toMatchObject({
      resourceType: 'aws:ec2:instance',
      selectionMode: 'ALL',
      resourceTags: [{ key: 'gameday:stack', value: 'dev' }, { key: 'rack', value: 'gameday-dev-db-proxy-1' }],
    });
    expect(rack.inputs.targets[0].filters).toContainEqual({ path: 'Placement.AvailabilityZone', values: ['us-east-1b'] });
    const zone = templates.find((t) => t.name === 'zone-1c')!;
    expect(zone.inputs.actions.map((a: { actionId: string }) => a.actionId)).toEqual(['aws:ec2:stop-instances', 'aws:elasticache:replicationgroup-interrupt-az-power']);
    expect(zone.inputs.targets[1]).toMatchObject({ resourceType: 'aws:elasticache:replicationgroup', parameters: { availabilityZoneIdentifier: 'us-east-1c' } });
  });

  it('limits the FIS role to stopping and starting this stack and cutting cache power', () => {
    const statements = policyStatements(run, 'fis');
    expect(statements.flatMap((s) => s.Action).sort()).toEqual(
      ['ec2:DescribeInstances', 'ec2:StartInstances', 'ec2:StopInstances', 'elasticache:DescribeReplicationGroups', 'elasticache:InterruptClusterAzPower', 'tag:GetResources'],
    );
    expect(statements[0]!.Condition).toEqual({ StringEquals: { 'aws:ResourceTag/gameday:stack': 'dev' } });
  });

  it('schedules reboot-stale daily in the window, with a role limited to reboots and load-balancer weights', () => {
    const [schedule] = ofType(run, 'aws:scheduler/schedule:Schedule');
    expect(schedule!.inputs).toMatchObject({
      scheduleExpression: 'cron(0 3 * * ? *)',
      scheduleExpressionTimezone: 'UTC',
      flexibleTimeWindow: { mode: 'FLEXIBLE', maximumWindowInMinutes: 120 },
    });
    expect(schedule!.inputs.target.ecsParameters).toMatchObject({ launchType: 'FARGATE', taskCount: 1 });
    const [task] = ofType(run, 'aws:ecs/taskDefinition:TaskDefinition');
    const container = JSON.parse(task!.inputs.containerDefinitions)[0];
    expect(container.image).toBe(configWith().reboot.image);
    expect(container.command[0]).toContain('gameday runbook run reboot-stale --max-uptime 180d');
    expect(container.command[0]).toContain('--resume-unfinished');
    // No host started outside the Scheduler's window (03:00 for 120 minutes, UTC): a run there stops, and the next day's resumes it.
    expect(container.command[0]).toContain('--hours 03:00-05:00 --time-zone UTC');
    const envInventory = JSON.parse(container.environment.find((e: { name: string }) => e.name === 'GAMEDAY_INVENTORY').value);
    expect(parseInventory(envInventory, 'task env').hosts).toHaveLength(14);
    expect(policyStatements(run, 'reboot-task').flatMap((s) => s.Action).sort()).toEqual([
      'autoscaling:DescribeAutoScalingGroups',
      'autoscaling:DescribeAutoScalingInstances',
      'autoscaling:EnterStandby',
      'autoscaling:ExitStandby',
      'ec2:DescribeInstanceStatus',
      'ec2:DescribeInstances',
      'ec2:RebootInstances',
      'elasticache:DescribeCacheClusters',
      'elasticache:DescribeReplicationGroups',
      'elasticache:RebootCacheCluster',
      'elasticache:TestFailover',
      'elasticfilesystem:ClientMount',
      'elasticfilesystem:ClientWrite',
      'elasticloadbalancing:DescribeListeners',
      'elasticloadbalancing:DescribeLoadBalancers',
      'elasticloadbalancing:DescribeRules',
      'elasticloadbalancing:DescribeTargetGroups',
      'elasticloadbalancing:DescribeTargetHealth',
      'elasticloadbalancing:ModifyListener',
      'elasticloadbalancing:ModifyRule',
    ]);
  });

  it('keeps the job\'s journal and locks on encrypted EFS, mounted by every day\'s task at GAMEDAY_STATE_DIR and reachable from the job only', () => {
    const [fs] = ofType(run, 'aws:efs/fileSystem:FileSystem');
    expect(fs!.inputs).toMatchObject({ encrypted: true });
    expect(ofType(run, 'aws:efs/mountTarget:MountTarget')).toHaveLength(3);
    const [ap] = ofType(run, 'aws:efs/accessPoint:AccessPoint');
    expect(ap!.inputs.rootDirectory.creationInfo.permissions).toBe('0700');
    const [task] = ofType(run, 'aws:ecs/taskDefinition:TaskDefinition');
    expect(task!.inputs.volumes[0].efsVolumeConfiguration).toMatchObject({ transitEncryption: 'ENABLED', authorizationConfig: { iam: 'ENABLED' } });
    const container = JSON.parse(task!.inputs.containerDefinitions)[0];
    expect(container.mountPoints).toEqual([{ sourceVolume: 'state', containerPath: '/var/lib/gameday', readOnly: false }]);
    expect(container.environment).toContainEqual({ name: 'GAMEDAY_STATE_DIR', value: '/var/lib/gameday' });
    const sg = ofType(run, 'aws:ec2/securityGroup:SecurityGroup').find((g) => g.name === 'sg-job-state')!;
    expect(sg.inputs.ingress).toHaveLength(1);
    expect(sg.inputs.ingress[0]).toMatchObject({ protocol: 'tcp', fromPort: 2049, toPort: 2049 });
  });

  it('keeps test/fixtures/pulumi-outputs.json equal to the default stack outputs', async () => {
    const outputs = {
      albDnsName: await valueOf(run.stack.outputs.albDnsName),
      inventory: run.inventory,
      placementGroups: run.stack.outputs.placementGroups,
      rackExperiments: await valueOf(run.stack.outputs.rackExperiments),
      rebootSchedule: await valueOf(run.stack.outputs.rebootSchedule),
      vpcId: await valueOf(run.stack.outputs.vpcId),
      zoneExperiments: await valueOf(run.stack.outputs.zoneExperiments),
    };
    // GAMEDAY_UPDATE_FIXTURES=1 npx vitest run test/unit/infra/stack.test.ts rewrites it after a deliberate change.
    if (process.env.GAMEDAY_UPDATE_FIXTURES) writeFileSync(fixture, `${JSON.stringify(outputs, null, 2)}\n`);
    expect(JSON.parse(readFileSync(fixture, 'utf8'))).toEqual(outputs);
  });
});

describe('other configurations (Pulumi mocks)', () => {
  it('fails placement check in one zone, saying why', async () => {
    const run = await runStack(configWith({ zones: 'us-east-1a', redisNodes: '2' }), 'one-zone');
    const check = placementCheck(parseInventory(run.inventory, 'one-zone'));
    expect(check.ok).toBe(false);
    expect(check.violations.map((v) => v.message)).toContain('web: spans 1 zone(s) (us-east-1a); at least 2 required');
    expect(check.breaks).toContain('rack us-east-1a/gameday-one-zone-web-1: tier web: 0 of 6 left, minHealthy is 2');
  });

  it('gives the daily task its webhook and logins from Secrets Manager, readable by its execution role alone (before: none, so the job refused and failed unheard)', async () => {
    const webhook = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gameday/slack-AbCdEf';
    const db = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:gameday/db-admin-GhIjKl';
    const run = await runStack(configWith({ rebootSecrets: { GAMEDAY_SLACK_WEBHOOK: webhook, GAMEDAY_MYSQL_PASSWORD: db } }), 'secrets');
    const [task] = ofType(run, 'aws:ecs/taskDefinition:TaskDefinition');
    const container = JSON.parse(task!.inputs.containerDefinitions)[0];
    expect(container.secrets).toEqual([{ name: 'GAMEDAY_SLACK_WEBHOOK', valueFrom: webhook }, { name: 'GAMEDAY_MYSQL_PASSWORD', valueFrom: db }]);
    expect(JSON.stringify(container.environment)).not.toContain('secretsmanager');
    const read = policyStatements(run, 'reboot-execution').find((st) => st.Action === 'secretsmanager:GetSecretValue');
    expect(read?.Resource).toEqual([webhook, db]);
    expect(() => configWith({ rebootSecrets: { AWS_SECRET_ACCESS_KEY: webhook } })).toThrow(/rebootSecrets/);
    expect(() => configWith({ rebootSecrets: { GAMEDAY_SLACK_WEBHOOK: 'https://hooks.slack.com/x' } })).toThrow(/Secrets Manager secret ARN/);
  });

  it('opens a second web group and Auto Scaling group past 7 per zone', async () => {
    const run = await runStack(configWith({ zones: 'us-east-1a,us-east-1b', webCount: '17', dbReplicas: '3', redisNodes: '2' }), 'big');
    const asgs = ofType(run, TYPES.autoScalingGroup).map((a) => [a.inputs.name, a.inputs.desiredCapacity, a.inputs.vpcZoneIdentifiers.length]);
    expect(asgs).toEqual([
      ['gameday-big-web-1', 14, 2],
      ['gameday-big-web-2', 3, 2],
    ]);
    const inv = parseInventory(run.inventory, 'big');
    expect(placementCheck(inv).ok).toBe(true);
    const web2 = inv.hosts.filter((h) => h.rack === 'gameday-big-web-2');
    expect(web2.map((h) => h.zone)).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1a']);
  });
});
