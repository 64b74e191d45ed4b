import { resolve } from 'node:path';
import { loadInventory, type Inventory } from '../../topology/index.js';
import { webFrontends } from '../../topology/frontends.js';
import { GamedayError } from '../../core/errors.js';
import { log } from '../../core/log.js';
import type { FaultDriver } from '../../drivers/faults/types.js';
import { fleetFaultDriver } from '../../drivers/faults/fleet.js';
import { faultOptionsFromEnv } from '../../drivers/faults/env.js';
import { startRun, silentProgress } from '../../engine/index.js';
import { requireRunbook } from '../../runbooks/registry.js';
import { fleet, notificationMasterOf, redisEndpoint, sentinelEndpoint } from '../../runbooks/steps/fleet.js';
import { openNotificationStores } from '../../runbooks/steps/consistencyCheck.js';
import { defaultLabDir, openLab } from '../../lab/context.js';
import { labFaultDriver } from '../../lab/faultDriver.js';
import { labSshFaultDriver } from '../../lab/sshFaults.js';
import { createEnvironment, type RunbookEnvironment } from './environment.js';

/*
 * The driver wiring of a game day ("gameday chaos plan/run/abort"): the lab's
 * drivers, or with --inventory the fleet's. What gameDayEnv returns is checked
 * against chaos's GameDayEnv where the CLI hands it to runGameDay, so that
 * only cli/chaosCommand.ts names the game-day module.
 */

/** The fleet a chaos command acts on: --inventory <file>, else the lab in --lab-dir. */
export interface GameDayTarget {
  inventory?: string;
  labDir?: string;
}

/** The lab folder: --lab-dir, else $GAMEDAY_LAB_DIR, else the default. */
export function labDirOf(target: GameDayTarget): string {
  return resolve(target.labDir ?? process.env.GAMEDAY_LAB_DIR ?? defaultLabDir());
}

/**
 * The fault driver for this fleet: the lab's, or for --inventory the fleet's
 * (each host by its power kind: ssh or aws), its options from GAMEDAY_SSH_*,
 * GAMEDAY_FAULT_*, GAMEDAY_AWS_REGION and GAMEDAY_FIS_TEMPLATES (docs/game-days.md).
 */
export function faultDriverFor(target: GameDayTarget): FaultDriver {
  if (!target.inventory) {
    const lab = openLab(labDirOf(target));
    // A --power ssh lab takes its faults as a fleet does: the ssh fault driver, on every host's sshd.
    return lab?.state.power === 'ssh' ? labSshFaultDriver(lab) : labFaultDriver(labDirOf(target));
  }
  return fleetFaultDriver(loadInventory(resolve(target.inventory)), faultOptionsFromEnv(process.env));
}

/** Whether a lab is up in the target's lab folder. */
export function labIsUp(target: GameDayTarget): boolean {
  return openLab(labDirOf(target)) !== undefined;
}

/** The inventory a pre-flight resolves faults against: the file's, else the running lab's, else the default lab layout's. */
export async function gameDayInventory(target: GameDayTarget): Promise<Inventory> {
  if (target.inventory) return (await createEnvironment({ inventoryFile: resolve(target.inventory) })).inventory;
  return openLab(labDirOf(target))?.inventory ?? (await createEnvironment({ labDir: labDirOf(target) })).inventory;
}

/** The inventory and drivers a game day runs with; without --inventory, the lab must be up. */
export async function gameDayEnvironment(target: GameDayTarget): Promise<RunbookEnvironment> {
  if (!target.inventory && !openLab(labDirOf(target))) {
    throw new GamedayError('LAB_NOT_UP', 'no lab is up there, and no --inventory was given', labDirOf(target), 'start the lab: gameday lab up (or give a fleet with --inventory)');
  }
  return createEnvironment({ inventoryFile: target.inventory ? resolve(target.inventory) : undefined, labDir: labDirOf(target) });
}

/** Wires the fleet's drivers into what a game day needs (chaos's GameDayEnv). */
export function gameDayEnv(environ: RunbookEnvironment, target: GameDayTarget, stateDir: string) {
  const f = fleet(environ.env);
  const inv = environ.inventory;
  const lab = target.inventory ? undefined : openLab(labDirOf(target));
  const layout = lab ? String((lab.state as Record<string, unknown>).layout ?? 'spread') : undefined;
  return {
    inventory: inv,
    targetName: { inventory: target.inventory ? resolve(target.inventory) : `lab ${labDirOf(target)}`, ...(layout ? { layout } : {}) },
    faults: faultDriverFor(target),
    probes: {
      haproxyEndpoint: f.haproxyEndpoint,
      mysql: f.mysql,
      ...(f.mysqlThroughProxy ? { pools: f.mysqlThroughProxy } : {}),
      sentinels: { endpoints: inv.hosts.filter((h) => 'sentinel' in h.services).map((h) => ({ name: h.name, ...sentinelEndpoint(f, h) })), masterName: notificationMasterOf(f, inv) },
    },
    redisServers: inv.hosts.filter((h) => 'redis' in h.services).map((h) => ({ name: h.name, ...redisEndpoint(f, h) })),
    frontends: webFrontends(inv),
    openStores: () => openNotificationStores(f, inv),
    async runResponse(runbook: string, params: Record<string, unknown>, parentRunId: string, signal: AbortSignal): Promise<{ runId: string; state: string; error?: string }> {
      // The response stands in for the on-call engineer: it approves its own approval steps.
      const result = await startRun(requireRunbook(runbook), params, {
        stateDir,
        inventory: inv,
        env: environ.env,
        parentRunId,
        yes: true,
        signal,
        log: log.child({ response: runbook }),
        progress: silentProgress,
      });
      return { runId: result.runId, state: result.state, error: result.failedStep?.error };
    },
  };
}
