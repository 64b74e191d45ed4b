import type { EC2Client } from '@aws-sdk/client-ec2';
import type { SSMClient } from '@aws-sdk/client-ssm';
import { z } from 'zod';
import { type Host } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { AwsApiError, awsApiError } from './awsErrors.js';
import { systemClock, type Clock } from './clock.js';
import { parseProcUptime } from './procUptime.js';
import { RegionalClients, type AwsClientConfig } from './regionalClients.js';
import type { PowerDriver } from './types.js';

/**
 * Power of an EC2 instance (the host's `id`), through the EC2 API and,
 * optionally, SSM Run Command.
 *
 * Uptime: EC2 has no "last boot" field. `LaunchTime` is when the instance was
 * last started and does NOT change on a reboot, so uptime from it is an upper
 * bound (a host rebooted since its launch looks older than it is: the 180-day
 * job may reboot it early, never late). With `uptimeSource: 'ssm'` the uptime
 * is read from /proc/uptime through SSM Run Command (AWS-RunShellScript; the
 * instance needs the SSM agent and an instance profile allowing it); when that
 * fails the driver logs a warning and falls back to LaunchTime.
 *
 * Reboot: RebootInstances (a clean OS reboot; EC2 forces a hard one if the OS
 * has not shut down after a few minutes).
 *
 * Back: DescribeInstanceStatus shows `running` with both status checks `ok`,
 * and, with SSM, /proc/uptime shows a boot after the request. Without SSM the
 * reboot itself cannot be observed (the state stays `running` throughout), so
 * the driver also waits `settleSeconds` after the request before trusting ok.
 *
 * Region: from the host's zone when it is an AWS zone name (eu-west-1a →
 * eu-west-1), else the `region` option, else the SDK's defaults (AWS_REGION,
 * the profile).
 */

const log = rootLog.child({ driver: 'power.aws' });

export const awsPowerOptionsSchema = z
  .object({
    /** Region for hosts whose zone is not an AWS zone name. */
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'must be an AWS region, e.g. "eu-west-1"')
      .optional(),
    /** Where uptime comes from: the instance's LaunchTime, or /proc/uptime through SSM Run Command. */
    uptimeSource: z.enum(['launch-time', 'ssm']).default('launch-time'),
    /** Pause between two DescribeInstanceStatus calls while waiting. */
    pollIntervalMs: z.number().int().min(1).default(15_000),
    /** Pause between two GetCommandInvocation calls, and how long one SSM command may take. */
    ssmPollIntervalMs: z.number().int().min(1).default(1_000),
    ssmTimeoutMs: z.number().int().min(1).default(60_000),
    /** Without SSM: seconds after the reboot request before passing status checks count as "back". */
    settleSeconds: z.number().int().min(0).default(60),
  })
  .strict();

export type AwsPowerOptionsInput = z.input<typeof awsPowerOptionsSchema>;
export type AwsPowerOptions = z.output<typeof awsPowerOptionsSchema>;

// Defined with the regional clients that use it; re-exported here for the drivers and the CLI that import it from this module.
export type { AwsClientConfig } from './regionalClients.js';

const INSTANCE_ID = /^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$/;
/** eu-west-1a, us-gov-west-1b, and Local Zones such as us-east-1-bos-1a. */
const AWS_ZONE = /^([a-z]{2}(?:-[a-z]+)+-\d+)(?:[a-z]|-[a-z0-9-]+)$/;

/** The region the host's zone names, if it is an AWS zone name. */
export function regionOfZone(zone: string): string | undefined {
  return AWS_ZONE.exec(zone)?.[1];
}

/** The host's EC2 instance id, or a clear error. */
export function instanceIdOf(host: Host): string {
  if (host.id === undefined || host.id === '') {
    throw new GamedayError(
      'POWER_AWS_NO_INSTANCE_ID',
      'an aws host needs its EC2 instance id',
      `host ${host.name}: id`,
      'set id: i-0123456789abcdef0 on the host (the Pulumi stack\'s inventory output has it)',
    );
  }
  if (!INSTANCE_ID.test(host.id)) {
    throw new GamedayError(
      'POWER_AWS_BAD_INSTANCE_ID',
      `"${host.id}" is not an EC2 instance id`,
      `host ${host.name}: id`,
      'an instance id looks like i-0123456789abcdef0; hosts that are not EC2 instances need another power kind',
    );
  }
  return host.id;
}

// API answers are external input: only what is used is checked, the rest ignored.
const describeInstancesAnswer = z.object({
  Reservations: z
    .array(
      z.object({
        Instances: z
          .array(
            z.object({
              InstanceId: z.string().optional(),
              LaunchTime: z.date().optional(),
              PrivateIpAddress: z.string().optional(),
              State: z.object({ Name: z.string().optional() }).optional(),
            }),
          )
          .optional(),
      }),
    )
    .optional(),
});

const describeInstanceStatusAnswer = z.object({
  InstanceStatuses: z
    .array(
      z.object({
        InstanceId: z.string().optional(),
        InstanceState: z.object({ Name: z.string().optional() }).optional(),
        InstanceStatus: z.object({ Status: z.string().optional() }).optional(),
        SystemStatus: z.object({ Status: z.string().optional() }).optional(),
      }),
    )
    .optional(),
});

/** An API answer checked against what the driver relies on. */
function parseAnswer<T>(schema: z.ZodType<T>, raw: unknown, what: string, host: Host): T {
  const r = schema.safeParse(raw);
  if (r.success) return r.data;
  throw new GamedayError('POWER_AWS_BAD_ANSWER', `${what} answered in an unexpected shape: ${z.prettifyError(r.error)}`, `host ${host.name}`, 'an SDK or API change: report it');
}

interface Clients {
  ec2: EC2Client;
  ssm: SSMClient;
  sdk: AwsPowerSdk;
}

type AwsPowerSdk = { ec2: typeof import('@aws-sdk/client-ec2'); ssm: typeof import('@aws-sdk/client-ssm') };
let sdkLoading: Promise<AwsPowerSdk> | undefined;
/** The SDK loads on the first AWS call, not when the CLI starts (EC2's client alone costs about half a second). */
const loadSdk = () => (sdkLoading ??= Promise.all([import('@aws-sdk/client-ec2'), import('@aws-sdk/client-ssm')]).then(([ec2, ssm]) => ({ ec2, ssm })));

export class AwsPowerDriver implements PowerDriver {
  readonly kind = 'aws' as const;
  readonly options: AwsPowerOptions;
  private readonly clock: Clock;
  private readonly clients: RegionalClients<AwsPowerSdk, Clients>;

  constructor(options: AwsPowerOptionsInput = {}, deps: { clock?: Clock; clientConfig?: AwsClientConfig } = {}) {
    const parsed = awsPowerOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new GamedayError('POWER_AWS_OPTIONS', z.prettifyError(parsed.error), 'aws power options', 'see AwsPowerOptions in drivers/power/aws.ts');
    }
    this.options = parsed.data;
    this.clock = deps.clock ?? systemClock;
    this.clients = new RegionalClients(loadSdk, (sdk, config) => ({ ec2: new sdk.ec2.EC2Client(config), ssm: new sdk.ssm.SSMClient(config), sdk }), deps.clientConfig);
  }

  /** The region used for this host, or undefined to let the SDK decide. */
  regionFor(host: Host): string | undefined {
    return regionOfZone(host.zone) ?? this.options.region;
  }

  private clientsFor(host: Host): Promise<Clients> {
    return this.clients.for(this.regionFor(host));
  }

  /** Runs one API call; any failure becomes a GamedayError naming the call, the instance, the region and the AWS error. */
  private async call<T>(host: Host, what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.failure(host, what, err);
    }
  }

  private failure(host: Host, what: string, err: unknown): GamedayError {
    if (err instanceof GamedayError) return err;
    return awsApiError(what, `${host.id} in ${this.regionFor(host) ?? 'the default region'}`, `host ${host.name}`, err);
  }

  private async describeInstance(host: Host) {
    const id = instanceIdOf(host);
    const { ec2, sdk } = await this.clientsFor(host);
    const raw = await this.call(host, 'EC2 DescribeInstances', () => ec2.send(new sdk.ec2.DescribeInstancesCommand({ InstanceIds: [id] })));
    const answer = parseAnswer(describeInstancesAnswer, raw, 'EC2 DescribeInstances', host);
    const instance = answer.Reservations?.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === id);
    if (!instance) {
      throw new GamedayError(
        'POWER_AWS_INSTANCE_NOT_FOUND',
        `EC2 does not know instance ${id} in ${this.regionFor(host) ?? 'the default region'}`,
        `host ${host.name}: id`,
        'check the instance id and the region (the host zone or the region option)',
      );
    }
    return instance;
  }

  /** The instance's private IPv4 address (where the job reaches it inside the VPC). */
  async privateAddressOf(host: Host): Promise<string> {
    const instance = await this.describeInstance(host);
    if (!instance.PrivateIpAddress) throw new GamedayError('POWER_AWS_NO_ADDRESS', `instance ${host.id} has no private address (state ${instance.State?.Name ?? 'unknown'})`, `host ${host.name}`);
    return instance.PrivateIpAddress;
  }

  /** Seconds since LaunchTime: an upper bound of the uptime (a reboot does not change LaunchTime). */
  async uptimeFromLaunchTime(host: Host): Promise<number> {
    const instance = await this.describeInstance(host);
    if (!instance.LaunchTime) {
      throw new GamedayError('POWER_AWS_NO_LAUNCH_TIME', `instance ${host.id} has no LaunchTime (state ${instance.State?.Name ?? 'unknown'})`, `host ${host.name}`);
    }
    return Math.max(0, (this.clock.now() - instance.LaunchTime.getTime()) / 1000);
  }

  /**
   * /proc/uptime through SSM Run Command, with the time the command was sent
   * (the boot time `sentAt - uptime` is then never later than the real one).
   */
  async uptimeFromSsm(host: Host, timeoutMs = this.options.ssmTimeoutMs): Promise<{ uptimeSeconds: number; sentAt: number }> {
    const id = instanceIdOf(host);
    const { ssm, sdk } = await this.clientsFor(host);
    const sentAt = this.clock.now();
    const sent = await this.call(host, 'SSM SendCommand', () =>
      ssm.send(
        new sdk.ssm.SendCommandCommand({
          InstanceIds: [id],
          DocumentName: 'AWS-RunShellScript',
          Parameters: { commands: ['cat /proc/uptime'] },
          Comment: 'gameday: read uptime',
          TimeoutSeconds: Math.max(30, Math.ceil(this.options.ssmTimeoutMs / 1000)),
        }),
      ),
    );
    const commandId = sent.Command?.CommandId;
    if (!commandId) throw new GamedayError('POWER_AWS_SSM', 'SSM SendCommand returned no command id', `host ${host.name}`);
    const deadline = sentAt + Math.min(timeoutMs, this.options.ssmTimeoutMs);
    let status = 'Pending';
    while (this.clock.now() < deadline) {
      await this.clock.sleep(this.options.ssmPollIntervalMs);
      let inv;
      try {
        inv = await ssm.send(new sdk.ssm.GetCommandInvocationCommand({ CommandId: commandId, InstanceId: id }));
      } catch (err) {
        // Right after SendCommand the invocation may not exist yet.
        if ((err as { name?: string }).name === 'InvocationDoesNotExist') continue;
        throw this.failure(host, 'SSM GetCommandInvocation', err);
      }
      status = inv.Status ?? 'Pending';
      if (status === 'Pending' || status === 'InProgress' || status === 'Delayed') continue;
      if (status !== 'Success') {
        throw new GamedayError(
          'POWER_AWS_SSM',
          `SSM command ${commandId} ended ${status}: ${(inv.StandardErrorContent ?? inv.StatusDetails ?? '').trim().slice(0, 200)}`,
          `host ${host.name}`,
          'the instance needs a running SSM agent and an instance profile that allows Run Command',
        );
      }
      const up = parseProcUptime(inv.StandardOutputContent ?? '');
      if (up === undefined) {
        throw new GamedayError('POWER_AWS_SSM', `SSM command gave ${JSON.stringify((inv.StandardOutputContent ?? '').slice(0, 80))}, not /proc/uptime`, `host ${host.name}`);
      }
      return { uptimeSeconds: up, sentAt };
    }
    throw new GamedayError('POWER_AWS_SSM', `SSM command ${commandId} still ${status} after ${deadline - sentAt} ms`, `host ${host.name}`, 'is the SSM agent online (Fleet Manager)?');
  }

  async uptimeSeconds(host: Host): Promise<number> {
    instanceIdOf(host);
    if (this.options.uptimeSource === 'ssm') {
      try {
        return (await this.uptimeFromSsm(host)).uptimeSeconds;
      } catch (err) {
        if (!(err instanceof GamedayError)) throw err;
        log.warn({ host: host.name, err: err.message }, 'SSM uptime failed; using LaunchTime (an upper bound: reboots do not change it)');
      }
    }
    return this.uptimeFromLaunchTime(host);
  }

  async reboot(host: Host): Promise<void> {
    const id = instanceIdOf(host);
    const instance = await this.describeInstance(host);
    const state = instance.State?.Name;
    if (state !== 'running') {
      throw new GamedayError(
        'POWER_AWS_NOT_RUNNING',
        `instance ${id} is ${state ?? 'in an unknown state'}, not running: nothing to reboot`,
        `host ${host.name}`,
        'start the instance first, or leave this host out of the run',
      );
    }
    const { ec2, sdk } = await this.clientsFor(host);
    log.info({ host: host.name, instanceId: id, region: this.regionFor(host) }, 'requesting reboot (EC2 RebootInstances)');
    await this.call(host, 'EC2 RebootInstances', () => ec2.send(new sdk.ec2.RebootInstancesCommand({ InstanceIds: [id] })));
  }

  /** EC2's instance state: stopped or terminated is off; anything else (running, pending, stopping) still may serve. */
  async powerState(host: Host): Promise<'on' | 'off'> {
    const state = (await this.describeInstance(host)).State?.Name;
    return state === 'stopped' || state === 'terminated' ? 'off' : 'on';
  }

  /** A forced stop (no shutdown, no flush), then waits for EC2 to say stopped. */
  async powerOff(host: Host, timeoutMs = 120_000): Promise<void> {
    const id = instanceIdOf(host);
    const { ec2, sdk } = await this.clientsFor(host);
    log.warn({ host: host.name, instanceId: id, region: this.regionFor(host) }, 'cutting power (EC2 StopInstances, Force)');
    await this.call(host, 'EC2 StopInstances', () => ec2.send(new sdk.ec2.StopInstancesCommand({ InstanceIds: [id], Force: true })));
    const deadline = this.clock.now() + timeoutMs;
    while (this.clock.now() < deadline) {
      if ((await this.powerState(host)) === 'off') return;
      await this.clock.sleep(2000);
    }
    throw new GamedayError('POWER_AWS_NOT_STOPPED', `instance ${id} was asked to stop but is not stopped after ${timeoutMs / 1000} s`, `host ${host.name}`, 'look at the instance in the EC2 console');
  }

  async waitUntilBack(host: Host, since: Date, timeoutMs: number): Promise<void> {
    const id = instanceIdOf(host);
    const { ec2, sdk } = await this.clientsFor(host);
    const useSsm = this.options.uptimeSource === 'ssm';
    const deadline = this.clock.now() + timeoutMs;
    let last = 'no answer yet';
    while (this.clock.now() < deadline) {
      try {
        const raw = await this.call(host, 'EC2 DescribeInstanceStatus', () =>
          ec2.send(new sdk.ec2.DescribeInstanceStatusCommand({ InstanceIds: [id], IncludeAllInstances: true })),
        );
        const st = parseAnswer(describeInstanceStatusAnswer, raw, 'EC2 DescribeInstanceStatus', host).InstanceStatuses?.find((s) => s.InstanceId === id);
        const state = st?.InstanceState?.Name ?? 'unknown';
        const instanceCheck = st?.InstanceStatus?.Status ?? 'unknown';
        const systemCheck = st?.SystemStatus?.Status ?? 'unknown';
        last = `state ${state}, instance check ${instanceCheck}, system check ${systemCheck}`;
        if (state === 'running' && instanceCheck === 'ok' && systemCheck === 'ok') {
          if (useSsm) {
            // Any SSM failure here is retried: the agent is often offline for a while after a boot.
            let read: { uptimeSeconds: number; sentAt: number } | undefined;
            try {
              read = await this.uptimeFromSsm(host, deadline - this.clock.now());
            } catch (err) {
              if (!(err instanceof GamedayError)) throw err;
              last += `; SSM uptime failed: ${err.message}`;
            }
            if (read) {
              const bootedAt = read.sentAt - read.uptimeSeconds * 1000;
              if (bootedAt > since.getTime()) {
                log.info({ host: host.name, bootedAt: new Date(bootedAt).toISOString() }, 'instance is back');
                return;
              }
              last = `running and checks ok, but up since ${new Date(bootedAt).toISOString()}, before the reboot request`;
            }
          } else if (this.clock.now() >= since.getTime() + this.options.settleSeconds * 1000) {
            log.info({ host: host.name }, 'instance is back (running, both status checks ok)');
            return;
          } else {
            last += `; waiting ${this.options.settleSeconds} s after the request before trusting it`;
          }
        }
      } catch (err) {
        if (!(err instanceof GamedayError)) throw err;
        // Throttling and server errors pass; wrong credentials or ids fail now, not at the timeout.
        if (err instanceof AwsApiError && !err.transient) throw err;
        last = err.message;
      }
      const pause = Math.min(this.options.pollIntervalMs, deadline - this.clock.now());
      if (pause <= 0) break;
      await this.clock.sleep(pause);
    }
    throw new GamedayError(
      'POWER_AWS_NOT_BACK',
      `instance ${id} not back within ${Math.round(timeoutMs / 1000)} s of the reboot requested at ${since.toISOString()}; last: ${last}`,
      `host ${host.name}`,
      'look at the EC2 console (status checks, system log); once it is back, resume the run',
    );
  }
}
