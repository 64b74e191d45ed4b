import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { AwsPowerDriver, regionOfZone, type AwsClientConfig, type AwsPowerOptionsInput } from './aws.js';
import { awsApiError } from './awsErrors.js';
import { awsCall, RegionalClients } from './regionalClients.js';
import { systemClock, type Clock } from './clock.js';
import type { PowerDriver } from './types.js';

/**
 * Power of an Auto Scaling member (power: aws-asg). The inventory names a
 * slot (web-4, zone us-east-1a) of a group (the host's `id`); instances come
 * and go, so the slot is resolved at run time: the group's live instances in
 * the slot's zone, by instance id, matched in order to the group's slots in
 * that zone, by name. One driver keeps what it resolved, so the reboot and
 * the wait talk about the same instance.
 *
 * A reboot goes through the group, never around it: EnterStandby first (the
 * group deregisters the instance from its target groups, which drains it
 * behind the ALB for the deregistration delay, and does not replace it),
 * then the EC2 reboot; back means EC2's status checks, then ExitStandby and
 * the instance InService and healthy in every target group of the group.
 */

const log = rootLog.child({ driver: 'power.aws-asg' });
type Sdk = { asg: typeof import('@aws-sdk/client-auto-scaling'); elb: typeof import('@aws-sdk/client-elastic-load-balancing-v2') };
let sdkLoading: Promise<Sdk> | undefined;
const loadSdk = () =>
  (sdkLoading ??= Promise.all([import('@aws-sdk/client-auto-scaling'), import('@aws-sdk/client-elastic-load-balancing-v2')]).then(([asg, elb]) => ({ asg, elb })));

interface GroupMember {
  instanceId: string;
  zone: string;
  lifecycle: string;
}

interface GroupView {
  members: GroupMember[];
  targetGroupArns: string[];
}

/** Lifecycle states of instances that hold a slot (not those on their way out). */
const HOLDS_A_SLOT = /^(Pending|InService|Standby|Entering ?Standby|Pending:.*|EnteringStandby)$/;

export interface AsgPowerOptions extends AwsPowerOptionsInput {
  /** How long EnterStandby (the drain) and ExitStandby may take; default 15 minutes. */
  standbyTimeoutMs?: number;
}

export class AsgPowerDriver implements PowerDriver {
  readonly kind = 'aws-asg' as const;
  private readonly ec2: AwsPowerDriver;
  private readonly clock: Clock;
  private readonly resolved = new Map<string, string>();
  private readonly clients: RegionalClients<Sdk, { asg: AutoScalingClient; elb: ElasticLoadBalancingV2Client; sdk: Sdk }>;
  private readonly standbyTimeoutMs: number;
  private readonly pollMs: number;

  constructor(
    private readonly inventory: Inventory,
    options: AsgPowerOptions = {},
    deps: { clock?: Clock; clientConfig?: AwsClientConfig } = {},
  ) {
    const { standbyTimeoutMs, ...ec2Options } = options;
    this.ec2 = new AwsPowerDriver(ec2Options, deps);
    this.clock = deps.clock ?? systemClock;
    this.standbyTimeoutMs = standbyTimeoutMs ?? 15 * 60_000;
    this.pollMs = this.ec2.options.pollIntervalMs;
    this.clients = new RegionalClients(loadSdk, (sdk, config) => ({ asg: new sdk.asg.AutoScalingClient(config), elb: new sdk.elb.ElasticLoadBalancingV2Client(config), sdk }), deps.clientConfig);
  }

  /** The Auto Scaling group's name: the host's id (asg/<group> is read too), else the group in its asg/<group>/<slot> address. */
  groupOf(host: Host): string {
    const fromId = host.id?.replace(/^asg\//, '');
    const fromAddress = /^asg\/([^/]+)\//.exec(host.address)?.[1];
    const group = fromId || fromAddress;
    if (!group) {
      throw new GamedayError('POWER_ASG_NO_GROUP', 'an aws-asg host needs its Auto Scaling group', `host ${host.name}: id`, 'set id: <group name> (the Pulumi stack\'s inventory output has it)');
    }
    return group;
  }

  private clientsFor(host: Host) {
    return this.clients.for(regionOfZone(host.zone) ?? this.ec2.options.region);
  }

  private call<T>(host: Host, what: string, fn: () => Promise<T>): Promise<T> {
    return awsCall(what, `group ${this.groupOf(host)}`, `host ${host.name}`, fn);
  }

  private async group(host: Host): Promise<GroupView> {
    const name = this.groupOf(host);
    const { asg, sdk } = await this.clientsFor(host);
    const answer = await this.call(host, 'Auto Scaling DescribeAutoScalingGroups', () => asg.send(new sdk.asg.DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] })));
    const g = answer.AutoScalingGroups?.find((x) => x.AutoScalingGroupName === name);
    if (!g) throw new GamedayError('POWER_ASG_GROUP_NOT_FOUND', `Auto Scaling does not know group ${name}`, `host ${host.name}: id`, 'check the group name and the region (the host\'s zone)');
    const members = (g.Instances ?? []).flatMap((i) => (i.InstanceId && i.AvailabilityZone && i.LifecycleState ? [{ instanceId: i.InstanceId, zone: i.AvailabilityZone, lifecycle: i.LifecycleState }] : []));
    return { members, targetGroupArns: g.TargetGroupARNs ?? [] };
  }

  /** The instance that holds this slot now (remembered for the rest of the run). */
  async instanceOf(host: Host): Promise<string> {
    const known = this.resolved.get(host.name);
    if (known) return known;
    const group = this.groupOf(host);
    const view = await this.group(host);
    const instances = view.members.filter((m) => m.zone === host.zone && HOLDS_A_SLOT.test(m.lifecycle)).map((m) => m.instanceId).sort();
    const slots = this.inventory.hosts
      .filter((h) => h.power === 'aws-asg' && h.zone === host.zone && this.groupOf(h) === group)
      .map((h) => h.name)
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    const rank = slots.indexOf(host.name);
    const instance = instances[rank];
    if (rank < 0 || !instance) {
      throw new GamedayError(
        'POWER_ASG_SLOT_EMPTY',
        `group ${group} has ${instances.length} instance(s) in ${host.zone} for ${slots.length} slot(s); slot ${host.name} has none`,
        `host ${host.name}`,
        'the group is below its size (instances launching or failing): wait for it, or leave this host out (--hosts)',
      );
    }
    this.resolved.set(host.name, instance);
    return instance;
  }

  private async asInstance(host: Host): Promise<Host> {
    return { ...host, power: 'aws', id: await this.instanceOf(host) };
  }

  /** Where the slot's instance is reached now (its private address), for readiness checks. */
  async reachableAddress(host: Host): Promise<string> {
    return this.ec2.privateAddressOf(await this.asInstance(host));
  }

  async uptimeSeconds(host: Host): Promise<number> {
    return this.ec2.uptimeSeconds(await this.asInstance(host));
  }

  private async lifecycleOf(host: Host, instanceId: string): Promise<string | undefined> {
    return (await this.group(host)).members.find((m) => m.instanceId === instanceId)?.lifecycle;
  }

  private async waitForLifecycle(host: Host, instanceId: string, wanted: string, timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    let state: string | undefined;
    while (this.clock.now() < deadline) {
      state = await this.lifecycleOf(host, instanceId);
      if (state === wanted) return;
      await this.clock.sleep(Math.min(this.pollMs, Math.max(1, deadline - this.clock.now())));
    }
    throw new GamedayError(
      'POWER_ASG_LIFECYCLE_TIMEOUT',
      `instance ${instanceId} of group ${this.groupOf(host)} is ${state ?? 'gone from the group'}, not ${wanted}, after ${Math.round(timeoutMs / 1000)} s`,
      `host ${host.name}`,
      'look at the group\'s activity history; once it is settled, resume the run',
    );
  }

  async reboot(host: Host): Promise<void> {
    const id = await this.instanceOf(host);
    const group = this.groupOf(host);
    const { asg, sdk } = await this.clientsFor(host);
    if ((await this.lifecycleOf(host, id)) !== 'Standby') {
      log.info({ host: host.name, instanceId: id, group }, 'entering standby: the group drains it from its target groups and does not replace it');
      const enter = (decrement: boolean) =>
        asg.send(new sdk.asg.EnterStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [id], ShouldDecrementDesiredCapacity: decrement }));
      try {
        await enter(true);
      } catch (err) {
        // At its minimum size the group refuses to shrink: it then launches a stand-in while this one is out.
        if (!/min(imum)?[ -]?size|below.*min/i.test(String((err as Error).message))) throw awsApiError('Auto Scaling EnterStandby', `instance ${id} of group ${group}`, `host ${host.name}`, err);
        log.warn({ host: host.name, group }, 'the group is at its minimum size: standby without decrementing (it launches a stand-in)');
        await this.call(host, 'Auto Scaling EnterStandby', () => enter(false));
      }
      await this.waitForLifecycle(host, id, 'Standby', this.standbyTimeoutMs);
    }
    await this.ec2.reboot(await this.asInstance(host));
  }

  async waitUntilBack(host: Host, since: Date, timeoutMs: number): Promise<void> {
    const started = this.clock.now();
    const id = await this.instanceOf(host);
    await this.ec2.waitUntilBack(await this.asInstance(host), since, timeoutMs);
    const group = this.groupOf(host);
    const { asg, elb, sdk } = await this.clientsFor(host);
    if ((await this.lifecycleOf(host, id)) === 'Standby') {
      log.info({ host: host.name, instanceId: id, group }, 'leaving standby');
      await this.call(host, 'Auto Scaling ExitStandby', () => asg.send(new sdk.asg.ExitStandbyCommand({ AutoScalingGroupName: group, InstanceIds: [id] })));
    }
    const left = () => Math.max(this.pollMs, timeoutMs - (this.clock.now() - started));
    await this.waitForLifecycle(host, id, 'InService', left());
    const { targetGroupArns } = await this.group(host);
    const deadline = this.clock.now() + left();
    for (const arn of targetGroupArns) {
      let last = 'not asked yet';
      for (;;) {
        const health = await this.call(host, 'ELB DescribeTargetHealth', () => elb.send(new sdk.elb.DescribeTargetHealthCommand({ TargetGroupArn: arn, Targets: [{ Id: id }] })));
        last = health.TargetHealthDescriptions?.[0]?.TargetHealth?.State ?? 'unknown';
        if (last === 'healthy') break;
        if (this.clock.now() >= deadline) {
          throw new GamedayError('POWER_ASG_TARGET_UNHEALTHY', `instance ${id} is InService but ${last} in target group ${arn.split(':').pop()}`, `host ${host.name}`, 'look at its health check; once healthy, resume the run');
        }
        await this.clock.sleep(this.pollMs);
      }
    }
  }
}
