import { type Host } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { AwsPowerDriver, type AwsClientConfig, type AwsPowerOptionsInput } from './aws.js';
import type { Clock } from './clock.js';
import { SshPowerDriver, type SshPowerOptionsInput, type SshRunner } from './ssh.js';
import type { PowerDriver } from './types.js';

export type { PowerDriver } from './types.js';
export { SshPowerDriver, sshArgv, sshDestination, sshPowerOptionsSchema } from './ssh.js';
export type { SshPowerOptions, SshPowerOptionsInput, SshRunner, SshResult } from './ssh.js';
export { AwsPowerDriver, awsPowerOptionsSchema, instanceIdOf, regionOfZone } from './aws.js';
export type { AwsPowerOptions, AwsPowerOptionsInput, AwsClientConfig } from './aws.js';
export { shellQuote, shellCommandLine } from './shellQuote.js';

export interface PowerDriverOptions {
  ssh?: SshPowerOptionsInput;
  aws?: AwsPowerOptionsInput;
  /** The kind for hosts whose inventory entry has no `power`; default 'ssh' (a plain server). */
  defaultKind?: 'ssh' | 'aws';
  /** For tests: a fake ssh runner, fake clock, AWS client settings (credentials, endpoint). */
  sshRunner?: SshRunner;
  awsClientConfig?: AwsClientConfig;
  clock?: Clock;
}

/**
 * The power driver for this host, from its `power` field. `lab` hosts are
 * not served here: the lab's own driver (in lab/) restarts their processes.
 * A call builds a new driver; callers that handle many hosts should keep one
 * per kind (the aws driver caches its SDK clients per region).
 */
export function powerDriverFor(host: Host, options: PowerDriverOptions = {}): PowerDriver {
  const kind = host.power ?? options.defaultKind ?? 'ssh';
  switch (kind) {
    case 'ssh':
      return new SshPowerDriver(options.ssh, { run: options.sshRunner, clock: options.clock });
    case 'aws':
      return new AwsPowerDriver(options.aws, { clock: options.clock, clientConfig: options.awsClientConfig });
    case 'aws-asg':
    case 'elasticache':
      throw new GamedayError('POWER_NEEDS_INVENTORY', `the ${kind} power driver needs the whole inventory`, `host ${host.name}: power`, 'build drivers with powerDrivers() (cli/wiring/powerWiring.ts)');
    case 'lab':
      throw new GamedayError(
        'POWER_LAB_NOT_HERE',
        'lab hosts are powered by the lab driver, which is provided by lab/, not by drivers/power',
        `host ${host.name}: power`,
        'use the lab power driver from lab/ for lab hosts (the lab inventory sets power: lab)',
      );
  }
}
