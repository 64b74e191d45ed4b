import { GamedayError } from '../core/errors.js';
import { sshFaultDriver, type SshFaultOptionsInput } from '../drivers/faults/ssh.js';
import type { CheckedFaultDriver } from '../drivers/faults/common.js';
import type { ResolvedFault } from '../drivers/faults/types.js';
import type { LabContext } from './context.js';
import { labSshPowerOptions } from './sshFiles.js';

/** The ssh fault driver's options for this lab: its ssh, and the unit names of the lab's services (lab/unitNames.ts) where they are not the driver's defaults. */
function labSshFaultOptions(labDir: string): SshFaultOptionsInput {
  return { ssh: labSshPowerOptions(labDir), units: { 'db-health': 'gameday-db-health' }, appUnit: 'gameday-app' };
}

/**
 * A `--power ssh` lab's faults, as a fleet takes them: gameday's ssh fault
 * driver against each host's sshd (lab/sshd.ts). One fault type is held
 * back: redis-data-loss deletes files by path (`redisDataPaths`, one list
 * for every host), and a lab host shares the machine's filesystem, where
 * the default paths are the machine's own Redis files.
 */
export function labSshFaultDriver(lab: LabContext): CheckedFaultDriver {
  const ssh = sshFaultDriver(lab.inventory, labSshFaultOptions(lab.dir));
  const refuse = (f: ResolvedFault): void => {
    if (f.type !== 'redis-data-loss') return;
    throw new GamedayError(
      'FAULT_UNSUPPORTED',
      `redis-data-loss (${f.label}) is not run over ssh on a lab: its files are deleted by path, and a lab host shares the machine's filesystem`,
      `fault ${f.id}`,
      'run it on a lab brought up with --power lab (gameday lab lose-redis-data), or on a fleet',
    );
  };
  return {
    kind: ssh.kind,
    supports: ssh.supports.filter((t) => t !== 'redis-data-loss'),
    check(faults) {
      faults.forEach(refuse);
      ssh.check(faults);
    },
    async inject(f) {
      refuse(f);
      return ssh.inject(f);
    },
    undo: (f) => ssh.undo(f),
  };
}
