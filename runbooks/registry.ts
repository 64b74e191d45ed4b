import { GamedayError, loadInventory, type Inventory } from '../topology/index.js';
import { defaultLabDir, openLab } from '../lab/context.js';
import { labInventory } from '../lab/layout.js';
import type { RegisteredRunbook, RunEnvironment } from './engine/types.js';
import { demoCounter, sourceFile as demoSource } from './engine/demo.js';
import { rebootStale, sourceFile as rebootStaleSource } from './rebootStale.js';
import { recoverHost, sourceFile as recoverHostSource } from './recoverHost.js';
import { failoverDb, sourceFile as failoverDbSource } from './failoverDb.js';
import { rejoinDb, sourceFile as rejoinDbSource } from './rejoinDb.js';
import { redisRebuild, sourceFile as redisRebuildSource } from './redisRebuild.js';
import { ramp, sourceFile as rampSource } from './ramp.js';
import { mysqlWarmup, sourceFile as mysqlWarmupSource } from './mysqlWarmup.js';
import { recoverRedisData, sourceFile as recoverRedisDataSource } from './recoverRedisData.js';
import { labFleetEnv } from '../lab/fleetEnv.js';
import { fleetFromEnvironment } from './fleetFromEnv.js';
import type { DriverFlags } from './powerWiring.js';

/**
 * Every runbook the CLI knows. To add one: in its module export the runbook
 * and `export const sourceFile = sourceFileOf(import.meta.url)` (its sha256
 * is the run's runbook version), then add `{ runbook, sourceFile }` here.
 */
export const runbooks: RegisteredRunbook[] = [
  { runbook: rebootStale, sourceFile: rebootStaleSource },
  { runbook: recoverHost, sourceFile: recoverHostSource },
  { runbook: failoverDb, sourceFile: failoverDbSource },
  { runbook: rejoinDb, sourceFile: rejoinDbSource },
  { runbook: redisRebuild, sourceFile: redisRebuildSource },
  { runbook: ramp, sourceFile: rampSource },
  { runbook: mysqlWarmup, sourceFile: mysqlWarmupSource },
  { runbook: recoverRedisData, sourceFile: recoverRedisDataSource },
  { runbook: demoCounter, sourceFile: demoSource },
];

export function findRunbook(name: string): RegisteredRunbook | undefined {
  return runbooks.find((r) => r.runbook.name === name);
}

export function requireRunbook(name: string): RegisteredRunbook {
  const found = findRunbook(name);
  if (!found) {
    throw new GamedayError('UNKNOWN_RUNBOOK', 'no such runbook', name, `one of: ${runbooks.map((r) => r.runbook.name).join(', ')}`);
  }
  return found;
}

export interface EnvironmentOptions {
  /** --inventory <file>: an inventory YAML file. */
  inventoryFile?: string;
  /** --lab-dir: the lab whose inventory to use when no file is given. */
  labDir?: string;
  /** --ssh-user, --aws-region, …: power driver options over the inventory's and the environment's. */
  drivers?: DriverFlags;
}

export interface RunbookEnvironment {
  inventory: Inventory;
  /** The drivers the steps use (RunEnvironment is an open record). */
  env: RunEnvironment;
  /** Closes connections the drivers opened. */
  close(): Promise<void>;
}

/** What the CLI calls to get an inventory and the drivers for it. */
export type EnvironmentFactory = (opts: EnvironmentOptions) => Promise<RunbookEnvironment>;

/** The inventory from --inventory, else the lab's (the one brought up in labDir, else the default lab layout). */
export function loadRunbookInventory(opts: EnvironmentOptions): Inventory {
  if (opts.inventoryFile) return loadInventory(opts.inventoryFile);
  return openLab(opts.labDir ?? defaultLabDir())?.inventory ?? labInventory();
}

/**
 * The default environment: the inventory and the fleet drivers for it: the
 * lab's own (power, sockets, secrets) when no inventory file is given and a
 * lab is up, else drivers configured from the environment (fleetFromEnv.ts).
 */
export const createEnvironment: EnvironmentFactory = async (opts) => {
  const inventory = loadRunbookInventory(opts);
  const labDir = opts.labDir ?? defaultLabDir();
  const fleet = !opts.inventoryFile && openLab(labDir) ? labFleetEnv(labDir) : fleetFromEnvironment(inventory, process.env, opts.drivers);
  return { inventory, env: { fleet }, close: async () => {} };
};
