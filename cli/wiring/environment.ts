import { loadInventory, type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import type { FleetEnv } from '../../runbooks/steps/fleet.js';
import { defaultLabDir, openLab } from '../../lab/context.js';
import { labInventory } from '../../lab/layout.js';
import type { RunEnvironment } from '../../engine/types.js';
import { labFleetEnv } from './labFleetEnv.js';
import { fleetFromEnvironment } from './fleetFromEnv.js';
import type { DriverFlags } from './powerWiring.js';
import { fileRebootLedger } from '../../runbooks/planning/rebootLedger.js';

/*
 * The driver wiring: which inventory a command acts on and the drivers for
 * it. The CLI owns it, so that runbooks/ never imports lab/ (nor lab/ runbooks/).
 */

export interface EnvironmentOptions {
  /** --inventory <file>: an inventory YAML file. */
  inventoryFile?: string;
  /** --lab-dir: the lab whose inventory to use when no file is given. */
  labDir?: string;
  /** --ssh-user, --aws-region, …: power driver options over the inventory's and the environment's. */
  drivers?: DriverFlags;
  /** The state folder: a real fleet's reboots are recorded there (runbooks/rebootLedger.ts). */
  stateDir?: string;
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
  if (opts.inventoryFile !== undefined) return loadInventory(opts.inventoryFile);
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
  const labUp = opts.inventoryFile === undefined && openLab(labDir) !== undefined;
  const fromEnv = () => ({ ...fleetFromEnvironment(inventory, process.env, opts.drivers), ...(opts.stateDir ? { reboots: fileRebootLedger(opts.stateDir) } : {}) });
  const fleet = labUp ? labFleetEnv(labDir) : opts.inventoryFile === undefined ? withoutTheLab(fromEnv(), inventory, labDir) : fromEnv();
  return { inventory, env: { fleet }, close: async () => {} };
};

/**
 * Neither --inventory nor a lab: the default lab layout's inventory, whose hosts only a lab answers. Nothing
 * may be sent to them (with no lab's bridge, their addresses would leave by the default route): every
 * connector refuses, naming the fix, and a plan shows what it could not read as unknown.
 */
function withoutTheLab(fleet: FleetEnv, inventory: Inventory, labDir: string): FleetEnv {
  const refuse = (host: Pick<Host, 'name' | 'address'>): never => {
    throw new GamedayError('LAB_NOT_UP', `no lab is up, so ${host.name} (${host.address}, a lab address) is not contacted`, labDir, 'start the lab: gameday lab up (or give a fleet with --inventory)');
  };
  return {
    ...fleet,
    reachable: refuse,
    mysql: async (name) => refuse(inventory.hosts.find((h) => h.name === name) ?? { name, address: 'unknown' }),
    haproxyEndpoint: (proxy) => refuse(proxy),
    mysqlThroughProxy: async (proxy) => refuse(proxy),
  };
}
