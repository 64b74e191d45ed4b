import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EXIT_NO_UNIT, LAB_UNITS, parseSystemctl } from './unitNames.js';

/*
 * The lab's systemctl (ssh/bin/systemctl on a --power ssh lab's hosts runs
 * this through bin/lab-systemctl.js: <lab dir> <host> <systemctl args…>). A signal
 * goes straight to the unit's recorded PID, as fast as systemd's would: a
 * power-off freezes every unit before it cuts the host off, and a slow
 * freeze would be a slow power cut. stop and start go through the lab
 * (lab/units.ts), under its lock.
 */

function pidOf(labDir: string, id: string): number | undefined {
  const state = JSON.parse(readFileSync(join(labDir, 'state.json'), 'utf8')) as { processes: Record<string, { pid: number }> };
  const pid = state.processes[id]?.pid;
  if (pid === undefined) return undefined;
  try {
    // Ours only while its command line names a file in the lab folder (supervisor.ts, isOurs): /x/lab is not /x/lab-b.
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(`${labDir}/`) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function gone(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}

async function main(): Promise<number> {
  const [labDir, host, ...argv] = process.argv.slice(2);
  const cmd = parseSystemctl(argv);
  if (typeof cmd === 'string') {
    process.stderr.write(`${cmd}\n`);
    return 1;
  }
  const service = LAB_UNITS[cmd.unit];
  if (!labDir || !host || !service) {
    process.stderr.write(`Unit ${cmd.unit}.service not found.\n`);
    return EXIT_NO_UNIT;
  }
  const pid = pidOf(labDir, `${host}/${service}`);
  if (cmd.verb === 'KILL' || cmd.verb === 'STOP' || cmd.verb === 'CONT') {
    if (pid === undefined) return 0; // nothing of the unit runs: nothing to signal
    process.kill(pid, `SIG${cmd.verb}`);
    // A killed unit is gone once systemctl kill returns, so a start right after it finds its ports free.
    for (let i = 0; cmd.verb === 'KILL' && !gone(pid) && i < 250; i++) await sleep(20);
    return 0;
  }
  if (cmd.verb === 'stop' && pid === undefined) return 0;
  const { labSystemctl } = await import('./units.js');
  const { requireLab } = await import('./context.js');
  const r = await labSystemctl(requireLab(labDir), host, cmd.verb, cmd.unit);
  if (r.message) process.stderr.write(`${r.message}\n`);
  return r.exitCode;
}

main().then(
  (code) => (process.exitCode = code),
  (err: Error) => {
    process.stderr.write(`gameday lab systemctl: ${err.message}\n`);
    process.exitCode = 1;
  },
);
