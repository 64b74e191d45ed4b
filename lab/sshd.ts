import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { acceptsTcp } from '../drivers/net/tcp.js';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Host } from '../topology/index.js';
import { shellQuote } from '../drivers/power/shellQuote.js';
import { PROJECT_ROOT } from '../core/paths.js';
import type { ProcessSpec } from './supervisor.js';
import type { LabContext } from './context.js';
import { mariadbPaths } from './configs/mariadb.js';
import { LAB_SSH_PORT, labSshFiles, sshDir } from './sshFiles.js';

/**
 * sshd on every host of a `lab up --power ssh` lab, so that gameday's ssh
 * power driver reaches each host as it reaches a fleet's: a real OpenSSH
 * server in the host's network namespace, root's key, strict host keys.
 *
 * What a lab host shares with the machine is made its own:
 * - **Uptime**: the host's sshd runs in a time namespace of its own whose
 *   boot clock starts when the host booted, so `cat /proc/uptime` over ssh
 *   tells the host's age, as on a real host (and as the lab driver counts it).
 * - **Reboot**: `systemctl reboot` would reboot the machine. The lab's
 *   reboot command (`ssh/reboot` in the lab folder, the inventory's
 *   `drivers.ssh.rebootCommand`) asks the lab to restart the host's
 *   processes (`gameday lab reboot <host>`), in the background, and returns:
 *   the session then drops as the host goes down, as a real reboot's does.
 * - **systemd and the MariaDB client**: the ssh fault driver kills and
 *   starts services with `systemctl`, and asks MariaDB with `mariadb`; a
 *   host's ssh sessions find the lab's (`ssh/bin/`, lab/systemctlMain.ts)
 *   first on their PATH, acting on the host's own processes and server.
 * - **The machine's services** are out of reach: see MASKED.
 */

/** sshd refuses to start without it. Made when missing and left in place: it is the package's own, and other sshd processes (other labs, the machine's) need it too. */
const PRIVSEP_DIR = '/run/sshd';

async function keygen(file: string, comment: string): Promise<void> {
  if (!existsSync(file)) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeout: 10_000 });
}

/**
 * The keys and files every host's sshd and the operator's ssh use: made once
 * per lab (a host keeps its host key across reboots, as a real one does).
 */
export async function prepareLabSsh(lab: LabContext): Promise<void> {
  const labDir = lab.dir;
  const hosts = lab.inventory.hosts;
  const f = labSshFiles(labDir);
  mkdirSync(sshDir(labDir), { recursive: true, mode: 0o700 });
  if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
  await keygen(f.clientKey, 'gameday-lab-operator');
  await Promise.all(hosts.map((h) => keygen(f.hostKey(h.name), h.name)));
  writeFileSync(f.authorizedKeys, readFileSync(`${f.clientKey}.pub`), { mode: 0o600 });
  const known = hosts.map((h) => {
    const [type, key] = readFileSync(`${f.hostKey(h.name)}.pub`, 'utf8').trim().split(/\s+/);
    return `${h.address} ${type} ${key}\n`;
  });
  writeFileSync(f.knownHosts, known.join(''), { mode: 0o600 });
  writeScript(f.rebootCommand, rebootScript(labDir));
  mkdirSync(f.binDir, { recursive: true, mode: 0o700 });
  writeScript(join(f.binDir, 'systemctl'), systemctlScript(labDir));
  // `mariadb` on a db host reaches that host's own server, as on a real one; never the machine's (its default socket).
  writeScript(join(f.binDir, 'mariadb'), mariadbScript(labDir));
  for (const h of lab.hostsOf('db')) {
    const password = lab.state.secrets.dbRootPassword;
    writeFileSync(mariadbClientConfig(labDir, h.name), `[client]\nuser=root\nsocket=${mariadbPaths(lab, h).socket}\n${password ? `password=${password}\n` : ''}`, { mode: 0o600 });
  }
}

/** A script root may run, and nobody else read (the mode of a file already there is set too). */
function writeScript(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o700 });
  chmodSync(file, 0o700);
}

/** `node <the project's script>`, quoted for a shell. */
function nodeCommand(script: string): string {
  return [process.execPath, join(PROJECT_ROOT, script)].map(shellQuote).join(' ');
}

/** The lab's `systemctl reboot`: run by root in the host's ssh session; the host it names is the one sshd set (SetEnv). */
function rebootScript(labDir: string): string {
  const gameday = nodeCommand('bin/gameday.js');
  return [
    '#!/bin/sh',
    '# A lab host\'s reboot (gameday lab/sshd.ts): the lab restarts this host\'s processes once this session has returned.',
    'host="${GAMEDAY_LAB_HOST:?not a lab host}"',
    `setsid ${gameday} lab reboot "$host" --dir ${shellQuote(labDir)} </dev/null >>${shellQuote(join(sshDir(labDir), 'reboots.log'))} 2>&1 &`,
    'echo "gameday lab: $host is going down for a reboot"',
    '',
  ].join('\n');
}

/** The lab's systemctl (lab/systemctlMain.ts), for the host sshd set (SetEnv): a start waits, as systemctl's waits for a unit to be up. */
function systemctlScript(labDir: string): string {
  // The compiled copy when current (bin/lab-systemctl.js decides as bin/gameday.js does): through tsx each call takes
  // about a second, and a power-off's freeze of every unit is meant to be as quick as systemd's.
  const main = `${nodeCommand('bin/lab-systemctl.js')} ${shellQuote(labDir)}`;
  return [
    '#!/bin/sh',
    '# systemctl on a lab host (gameday lab/systemctlMain.ts): kill -s KILL|STOP|CONT, stop and start of the host\'s lab processes.',
    'host="${GAMEDAY_LAB_HOST:?not a lab host}"',
    `GAMEDAY_LOG_LEVEL=warn exec ${main} "$host" "$@"`,
    '',
  ].join('\n');
}

function mariadbClientConfig(labDir: string, host: string): string {
  return join(sshDir(labDir), `${host}.my.cnf`);
}

/** The MariaDB client on a lab host: the host's own server's socket and root login, or an error on a host with none. */
function mariadbScript(labDir: string): string {
  return [
    '#!/bin/sh',
    '# mariadb on a lab host (gameday lab/sshd.ts): the host\'s own server, never the machine\'s.',
    'host="${GAMEDAY_LAB_HOST:?not a lab host}"',
    `exec /usr/bin/mariadb --defaults-file=${shellQuote(sshDir(labDir))}/"$host".my.cnf "$@"`,
    '',
  ].join('\n');
}

function sshdConfig(labDir: string, host: Host): string {
  const f = labSshFiles(labDir);
  return [
    `ListenAddress ${host.address}:${LAB_SSH_PORT}`,
    `HostKey ${f.hostKey(host.name)}`,
    'PidFile none',
    `AuthorizedKeysFile ${f.authorizedKeys}`,
    'PermitRootLogin prohibit-password',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    // The lab folder may sit under /tmp, which any user may write: strict modes would refuse its authorized_keys.
    'StrictModes no',
    'PrintMotd no',
    'X11Forwarding no',
    'AllowTcpForwarding no',
    // Root's PATH as sshd sets it, with the lab's systemctl first.
    `SetEnv GAMEDAY_LAB_HOST=${host.name} PATH=${f.binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    '',
  ].join('\n');
}

/** The machine's uptime in seconds, as the initial time namespace counts it (this process may be in a lab host's own). */
export function machineUptimeSeconds(): number {
  const up = Number(readFileSync('/proc/uptime', 'utf8').split(/\s+/)[0]);
  const offset = /^boottime\s+(-?\d+)/m.exec(readFileSync('/proc/self/timens_offsets', 'utf8'));
  return up - Number(offset?.[1] ?? 0);
}

/**
 * What a lab host's root sessions must never reach on the machine they share: its MariaDB's and Redis's
 * sockets and data, and systemd (a `systemctl` that bypassed the lab's would stop the machine's services).
 * Each is covered by an empty tmpfs in the sshd's own mount namespace: the lab's shims on the PATH are the
 * way in, and a session that lost them (a changed PATH) finds nothing of the machine's.
 */
const MASKED = ['/run/mysqld', '/run/systemd', '/run/dbus', '/run/redis', '/var/lib/mysql', '/var/lib/redis'];
const MASK_THEN_EXEC = `for d in ${MASKED.join(' ')}; do if [ -d "$d" ]; then mount -t tmpfs -o size=1m,mode=0755 gameday-lab-mask "$d" || exit 1; fi; done; exec "$@"`;

/**
 * The host's sshd, in a time namespace whose boot clock reads the host's age
 * (`bootedAt` is when its first running process started: now, on a boot),
 * and a mount namespace that hides the machine's services (MASKED).
 */
export function sshdSpec(labDir: string, host: Host, logDir: string, bootedAt: number): ProcessSpec {
  const f = labSshFiles(labDir);
  const hostUptime = Math.max(0, (Date.now() - bootedAt) / 1000);
  return {
    id: `${host.name}/sshd`,
    host: host.name,
    prepare: () => writeFileSync(f.sshdConfig(host.name), sshdConfig(labDir, host), { mode: 0o600 }),
    // unshare and sh exec sshd in place (the PID is sshd's); the offset is whole seconds, never below the machine's boot.
    command: 'unshare',
    args: [
      '--mount', '--propagation', 'private',
      '--time', '--boottime', String(Math.min(0, Math.ceil(hostUptime - machineUptimeSeconds()))),
      '--', 'sh', '-c', MASK_THEN_EXEC, 'sh', '/usr/sbin/sshd', '-D', '-e', '-f', f.sshdConfig(host.name),
    ],
    logFile: join(logDir, 'sshd.log'),
    ready: () => acceptsTcp(host.address, LAB_SSH_PORT, 1000),
  };
}
