import { z } from 'zod';
import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { regionOfZone } from '../power/aws.js';
import { systemClock, type Clock } from '../power/clock.js';
import type { AwsClientConfig } from '../power/regionalClients.js';
import { assertSupported, hostLookup, type CheckedFaultDriver } from './common.js';
import type { AwsFaultContext, AwsFaultType } from './aws/context.js';
import { awsFaultOptionsSchema, type AwsFaultOptions, type AwsFaultOptionsInput } from './aws/options.js';
import { powerOff } from './aws/powerOff.js';
import { clientsByRegion, loadSdk } from './aws/sdk.js';
import type { ResolvedFault } from './types.js';

// The options and the FIS tag stay importable from here, the driver's public module (env.ts, the tests).
export { awsFaultOptionsSchema, type AwsFaultOptions, type AwsFaultOptionsInput } from './aws/options.js';
export { FIS_FAULT_TAG } from './aws/fis.js';

/**
 * Faults on EC2: a power loss is StopInstances with Force, per region
 * (aws/ec2.ts), or with `fisTemplates` a FIS experiment for a mapped
 * fault label (aws/fis.ts). Each fault type is one object under aws/ with
 * its check, inject and undo side by side, registered in FAULT_TYPES below.
 *
 * Nothing else: an ElastiCache node or a managed database has no process to
 * kill and no shell to partition, so kill-process, stop-replication,
 * partition and redis-data-loss are unsupported here.
 */

/** The fault types this driver injects, in the order its `supports` lists them. */
const FAULT_TYPES: { readonly [T in ResolvedFault['type']]?: AwsFaultType } = {
  'power-off': powerOff,
};

export interface AwsFaultDeps {
  clock?: Clock;
  clientConfig?: AwsClientConfig;
}

function parseOptions(options: AwsFaultOptionsInput): AwsFaultOptions {
  const parsed = awsFaultOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new GamedayError('FAULT_OPTIONS', z.prettifyError(parsed.error), 'aws fault options', 'see AwsFaultOptions in drivers/faults/aws.ts (GAMEDAY_AWS_REGION, GAMEDAY_FIS_TEMPLATES)');
  }
  return parsed.data;
}

/** Faults on the EC2 instances among the hosts of `inventory`. */
export function awsFaultDriver(inventory: Inventory, options: AwsFaultOptionsInput = {}, deps: AwsFaultDeps = {}): CheckedFaultDriver {
  const o = parseOptions(options);
  const ctx: AwsFaultContext = {
    options: o,
    clock: deps.clock ?? systemClock,
    hostOf: hostLookup(inventory),
    regionFor: (h: Host) => regionOfZone(h.zone) ?? o.region,
    clientsFor: clientsByRegion(deps.clientConfig ?? {}),
    started: new Map(),
  };

  /** The fault's type, once assertSupported has let it through. */
  const typeOf = (f: ResolvedFault): AwsFaultType => FAULT_TYPES[f.type]!;

  function checkOne(f: ResolvedFault): void {
    assertSupported(driver, f);
    typeOf(f).check(ctx, f);
  }

  const driver: CheckedFaultDriver = {
    kind: 'aws',
    supports: Object.keys(FAULT_TYPES) as Array<ResolvedFault['type']>,
    check(faults) {
      for (const f of faults) checkOne(f);
    },
    async inject(f) {
      await loadSdk();
      checkOne(f);
      return typeOf(f).inject(ctx, f);
    },
    async undo(f) {
      await loadSdk();
      assertSupported(driver, f);
      return typeOf(f).undo(ctx, f);
    },
  };
  return driver;
}
