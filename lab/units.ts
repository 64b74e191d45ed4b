import type { LabContext } from './context.js';
import { withLabLock } from './labLock.js';
import { processSpecsOf } from './processes.js';
import { isRunning, stopProcess } from './supervisor.js';
import { startSpecs } from './up.js';
import { EXIT_NO_UNIT, LAB_UNITS } from './unitNames.js';

/**
 * `systemctl` on a lab host of a `--power ssh` lab: the verbs gameday's ssh
 * fault driver sends (`kill -s KILL|STOP|CONT`, `stop`, `start`), acting on
 * the host's lab processes. The host's ssh sessions find the lab's systemctl
 * first on their PATH (lab/sshd.ts), so the driver runs on the lab exactly
 * what it runs on a fleet's hosts, where systemd answers. Signals go straight
 * to the PID (lab/systemctlMain.ts); stop and start are here.
 */

export interface SystemctlResult {
  exitCode: number;
  message: string;
}

/** `systemctl stop` or `start` of one unit of `hostName`, under the lab's lock (signals: lab/systemctlMain.ts). */
export async function labSystemctl(lab: LabContext, hostName: string, verb: 'stop' | 'start', unit: string): Promise<SystemctlResult> {
  const host = lab.host(hostName);
  const id = `${host.name}/${LAB_UNITS[unit] ?? ''}`;
  if (!processSpecsOf(lab, host).some((s) => s.id === id)) return { exitCode: EXIT_NO_UNIT, message: `Unit ${unit}.service not found.` };
  return withLabLock(lab.dir, `systemctl ${verb} ${id}`, async () => {
    lab.reload();
    if (verb === 'stop') await stopProcess(lab, id, 'term');
    // Specs made afresh under the lock: a start reads the state as it is now.
    else if (!isRunning(lab, id)) await startSpecs(lab, processSpecsOf(lab, host).filter((s) => s.id === id));
    return { exitCode: 0, message: '' };
  });
}
