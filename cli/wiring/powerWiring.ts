import { z } from 'zod';
import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { awsPowerOptionsSchema, sshPowerOptionsSchema, SshPowerDriver, AwsPowerDriver, type PowerDriver } from '../../drivers/power/index.js';
import { AsgPowerDriver } from '../../drivers/power/asg.js';
import { ElastiCachePowerDriver } from '../../drivers/power/elasticache.js';
import type { AwsClientConfig } from '../../drivers/power/aws.js';
import type { Clock } from '../../drivers/power/clock.js';

/**
 * Options of the power drivers, from (weakest first) the inventory's
 * `drivers` section, environment variables, then flags:
 *   ssh: user, port, identityFile, jumpHost (GAMEDAY_SSH_USER, GAMEDAY_SSH_PORT,
 *        GAMEDAY_SSH_IDENTITY_FILE, GAMEDAY_SSH_JUMP_HOST, GAMEDAY_SSH_KNOWN_HOSTS,
 *        GAMEDAY_SSH_CONFIG, GAMEDAY_SSH_HOST_KEY_CHECKING; --ssh-user, --ssh-port,
 *        --ssh-key, --ssh-jump)
 *   aws: region, uptimeSource (GAMEDAY_AWS_REGION, GAMEDAY_AWS_UPTIME; --aws-region, --aws-uptime)
 */
export interface DriverFlags {
  sshUser?: string;
  sshPort?: string;
  sshKey?: string;
  sshJump?: string;
  /** The operator accepts the inventory's own risky ssh options (see RISKY_INVENTORY_SSH). */
  sshTrustInventory?: boolean;
  awsRegion?: string;
  awsUptime?: string;
}

type Layer = { ssh: Record<string, unknown>; aws: Record<string, unknown>; source: (key: string, driver: 'ssh' | 'aws') => string };

/** A JSON array of words (["ipmitool", "-H", "{host}-ipmi", …]); anything else is left for the schema to refuse, naming the variable. */
function jsonArgv(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

function fromEnv(env: NodeJS.ProcessEnv): Layer {
  const ssh: Record<string, unknown> = {};
  const aws: Record<string, unknown> = {};
  const vars: Record<string, string> = {};
  const take = (variable: string, driver: 'ssh' | 'aws', key: string, parse: (v: string) => unknown = (v) => v) => {
    const v = env[variable]?.trim();
    if (!v) return;
    (driver === 'ssh' ? ssh : aws)[key] = parse(v);
    vars[`${driver}.${key}`] = variable;
  };
  take('GAMEDAY_SSH_USER', 'ssh', 'user');
  take('GAMEDAY_SSH_PORT', 'ssh', 'port', Number);
  take('GAMEDAY_SSH_IDENTITY_FILE', 'ssh', 'identityFile');
  take('GAMEDAY_SSH_JUMP_HOST', 'ssh', 'jumpHost');
  take('GAMEDAY_SSH_KNOWN_HOSTS', 'ssh', 'knownHostsFile');
  take('GAMEDAY_SSH_CONFIG', 'ssh', 'configFile');
  take('GAMEDAY_SSH_HOST_KEY_CHECKING', 'ssh', 'hostKeyChecking');
  // The fence (STONITH): the management host, and its two commands as JSON arrays.
  take('GAMEDAY_SSH_FENCE_HOST', 'ssh', 'fenceHost');
  take('GAMEDAY_SSH_FENCE_COMMAND', 'ssh', 'fenceCommand', jsonArgv);
  take('GAMEDAY_SSH_FENCE_STATUS_COMMAND', 'ssh', 'fenceStatusCommand', jsonArgv);
  take('GAMEDAY_AWS_REGION', 'aws', 'region');
  take('GAMEDAY_AWS_UPTIME', 'aws', 'uptimeSource');
  return { ssh, aws, source: (key, driver) => `environment variable ${vars[`${driver}.${key}`]}` };
}

const FLAG_OF: Record<string, string> = { 'ssh.user': '--ssh-user', 'ssh.port': '--ssh-port', 'ssh.identityFile': '--ssh-key', 'ssh.jumpHost': '--ssh-jump', 'aws.region': '--aws-region', 'aws.uptimeSource': '--aws-uptime' };

function fromFlags(flags: DriverFlags): Layer {
  const ssh: Record<string, unknown> = {};
  const aws: Record<string, unknown> = {};
  if (flags.sshUser !== undefined) ssh.user = flags.sshUser;
  if (flags.sshPort !== undefined) ssh.port = Number(flags.sshPort);
  if (flags.sshKey !== undefined) ssh.identityFile = flags.sshKey;
  if (flags.sshJump !== undefined) ssh.jumpHost = flags.sshJump;
  if (flags.awsRegion !== undefined) aws.region = flags.awsRegion;
  if (flags.awsUptime !== undefined) aws.uptimeSource = flags.awsUptime;
  return { ssh, aws, source: (key, driver) => FLAG_OF[`${driver}.${key}`] ?? `--${driver}-${key}` };
}

/** The merged options of one driver, checked: an error names the field and where it came from (inventory, variable or flag). */
function merged(driver: 'ssh' | 'aws', schema: z.ZodType, layers: Layer[]): Record<string, unknown> {
  const value = Object.assign({}, ...layers.map((l) => l[driver]));
  const r = schema.safeParse(value);
  if (r.success) return value;
  const issue = r.error.issues[0]!;
  const key = String(issue.path[0] ?? '');
  const from = [...layers].reverse().find((l) => key in l[driver]) ?? layers[0]!;
  throw new GamedayError('BAD_DRIVER_OPTION', `${driver} ${key || 'options'}: ${issue.message}`, from.source(key, driver), `see docs/reference.md, "Driver options"`);
}

/**
 * Options an inventory may not set for the operator: each runs a command as
 * root on every host (rebootCommand), runs or reaches what it names
 * (configFile: ProxyCommand; jumpHost), or lets any host answer as the
 * target (hostKeyChecking off). An inventory is shared, generated, imported;
 * these need --ssh-trust-inventory (or GAMEDAY_SSH_TRUST_INVENTORY=1).
 */
const RISKY_INVENTORY_SSH: Record<string, (value: unknown) => boolean> = {
  rebootCommand: () => true,
  configFile: () => true,
  jumpHost: () => true,
  hostKeyChecking: (v) => v === 'off',
  fenceHost: () => true,
  fenceCommand: () => true,
  fenceStatusCommand: () => true,
};

/**
 * One power driver per kind for an inventory (the AWS ones cache their
 * clients, the Auto Scaling one what it resolved), chosen by each host's
 * `power`. Lab hosts are not served here (lab/ has their driver).
 */
export function powerDrivers(inv: Inventory, env: NodeJS.ProcessEnv = process.env, flags: DriverFlags = {}, deps: { clock?: Clock; clientConfig?: AwsClientConfig } = {}): (host: Host) => PowerDriver {
  const inventoryLayer: Layer = { ssh: inv.drivers?.ssh ?? {}, aws: inv.drivers?.aws ?? {}, source: (key, driver) => `inventory drivers.${driver}.${key}` };
  // Which program gameday runs is not an inventory's to say (an inventory is shared, generated, imported).
  if ('sshBinary' in inventoryLayer.ssh) {
    throw new GamedayError('BAD_DRIVER_OPTION', 'the ssh program cannot be chosen by an inventory', 'inventory drivers.ssh.sshBinary', 'remove it; gameday runs ssh from PATH');
  }
  const trusted = flags.sshTrustInventory === true || env.GAMEDAY_SSH_TRUST_INVENTORY === '1';
  const risky = Object.keys(inventoryLayer.ssh).filter((k) => RISKY_INVENTORY_SSH[k]?.(inventoryLayer.ssh[k]));
  if (risky.length && !trusted) {
    throw new GamedayError(
      'INVENTORY_NOT_TRUSTED',
      `the inventory sets ${risky.map((k) => `drivers.ssh.${k}`).join(', ')}: what runs as root on every host, or what ssh runs and reaches, is the operator's to say`,
      `inventory drivers.ssh.${risky[0]}`,
      'give it as an environment variable (GAMEDAY_SSH_CONFIG, GAMEDAY_SSH_JUMP_HOST, …) or flag, or accept the inventory\'s with --ssh-trust-inventory (GAMEDAY_SSH_TRUST_INVENTORY=1)',
    );
  }
  const layers = [inventoryLayer, fromEnv(env), fromFlags(flags)];
  const sshOptions = merged('ssh', sshPowerOptionsSchema, layers);
  const awsOptions = merged('aws', awsPowerOptionsSchema, layers);
  let ssh: SshPowerDriver | undefined;
  let aws: AwsPowerDriver | undefined;
  let asg: AsgPowerDriver | undefined;
  let cache: ElastiCachePowerDriver | undefined;
  return (host) => {
    switch (host.power ?? 'ssh') {
      case 'ssh':
        return (ssh ??= new SshPowerDriver(sshOptions, { clock: deps.clock }));
      case 'aws':
        return (aws ??= new AwsPowerDriver(awsOptions, deps));
      case 'aws-asg':
        return (asg ??= new AsgPowerDriver(inv, awsOptions, deps));
      case 'elasticache':
        return (cache ??= new ElastiCachePowerDriver({ region: awsOptions.region as string | undefined, pollIntervalMs: awsOptions.pollIntervalMs as number | undefined }, deps));
      case 'lab':
        throw new GamedayError('POWER_LAB_NOT_HERE', 'lab hosts are powered by the lab driver', `host ${host.name}: power`, 'power: lab hosts are reached only through a running lab: start it ("gameday lab up", and give no --inventory), or use a fleet inventory whose hosts have another power kind (ssh, aws, …)');
    }
  };
}
