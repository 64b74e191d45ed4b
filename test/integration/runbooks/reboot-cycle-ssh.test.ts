import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { execa } from 'execa';
import { SshPowerDriver } from '../../../drivers/power/ssh.js';
import { labSshPowerOptions } from '../../../lab/sshFiles.js';
import { rebootCycleSuite } from './rebootCycle.js';

// gameday's ssh power driver against an sshd in every host's namespace (lab up --power ssh), on 198.18.43.x:
// uptimes read from each host's /proc/uptime and reboots asked for over ssh, as on a fleet.
rebootCycleSuite(43, 'ssh', async (lab, runStartedAt) => {
  expect(lab.inventory.hosts.every((h) => h.power === 'ssh'), 'the lab inventory says power: ssh').toBe(true);
  // Each host's reboot command ran once, on that host (the lab's reboot command logs what it restarted).
  const reboots = [...readFileSync(join(lab.dir, 'ssh', 'reboots.log'), 'utf8').matchAll(/^reboot ([^:\s]+):/gm)].map((m) => m[1]);
  expect(reboots.sort()).toEqual(lab.inventory.hosts.map((h) => h.name).sort());
  // And over ssh every host now says it booted during the run.
  const ssh = new SshPowerDriver(labSshPowerOptions(lab.dir));
  const uptimes = await Promise.all(lab.inventory.hosts.map((h) => ssh.uptimeSeconds(h)));
  const sinceRun = (Date.now() - runStartedAt) / 1000;
  for (const [i, up] of uptimes.entries()) expect(up, `${lab.inventory.hosts[i].name}'s uptime over ssh`).toBeLessThan(sinceRun);
  // A host's root shell reaches nothing of the machine's: not its MariaDB socket, not its systemd, even past the lab's PATH.
  const db2 = lab.host('db-2');
  const onDb2 = (command: string) => execa('ssh', ssh.argvFor(db2, command), { reject: false });
  expect((await onDb2('ls -A /run/mysqld /run/systemd /var/lib/mysql /var/lib/redis 2>/dev/null | grep -v ":$" | grep -v "^$" | wc -l')).stdout.trim()).toBe('0');
  expect((await onDb2('PATH=/usr/bin:/bin systemctl is-system-running')).exitCode).not.toBe(0);
  expect((await onDb2('mariadb -N -e "SELECT @@socket"')).stdout.trim()).toBe(join(lab.hostDir('db-2'), 'mysqld.sock'));
});
