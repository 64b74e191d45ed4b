import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { execa } from 'execa';
import type { Host } from '../topology/index.js';
import type { SshPowerOptionsInput } from '../drivers/power/ssh.js';
import { shellQuote } from '../drivers/power/shellQuote.js';
import { PROJECT_ROOT } from '../core/paths.js';
import type { ProcessSpec } from './supervisor.js';

/**
 * sshd on every host of a `lab up --power ssh` lab, so that gameday's ssh
 * power driver reaches each host as it reaches a fleet's: a real OpenSSH
 * server in the host's network namespace, root's key, strict host keys.
 *
 * Two things a lab host shares with the machine are made its own:
 * - **Uptime**: the host's sshd runs in a time namespace of its own whose
 *   boot clock starts when the host booted, so `cat /proc/uptime` over ssh
 *   tells the host's age, as on a real host (and as the lab driver counts it).
 * - **Reboot**: `systemctl reboot` would reboot the machine. The lab's
 *   reboot command (`ssh/reboot` in the lab folder, the inventory's
 *   `drivers.ssh.rebootCommand`) asks the lab to restart the host's
 *   processes (`gameday lab reboot <host>`), in the background, and returns:
 *   the session then drops as the host goes down, as a real reboot's does.
 */

export const LAB_SSH_PORT = 22;
/** sshd refuses to start without it. Made when missing and left in place: it is the package's own, and other sshd processes (other labs, the machine's) need it too. */
const PRIVSEP_DIR = '/run/sshd';

function sshDir(labDir: string): string {
  return join(labDir, 'ssh');
}

export interface LabSshFiles {
  clientKey: string;
  knownHosts: string;
  authorizedKeys: string;
  rebootCommand: string;
  hostKey: (host: string) => string;
  sshdConfig: (host: string) => string;
}

export function labSshFiles(labDir: string): LabSshFiles {
  const dir = sshDir(labDir);
  return {
    clientKey: join(dir, 'id_ed25519'),
    knownHosts: join(dir, 'known_hosts'),
    authorizedKeys: join(dir, 'authorized_keys'),
    rebootCommand: join(dir, 'reboot'),
    hostKey: (host) => join(dir, `${host}_host_ed25519_key`),
    sshdConfig: (host) => join(dir, `${host}.sshd_config`),
  };
}

/** The ssh power driver's options for this lab: what `lab inventory` prints as drivers.ssh. */
export function labSshPowerOptions(labDir: string): SshPowerOptionsInput {
  const f = labSshFiles(labDir);
  return {
    user: 'root',
    port: LAB_SSH_PORT,
    identityFile: f.clientKey,
    knownHostsFile: f.knownHosts,
    hostKeyChecking: 'strict',
    configFile: '/dev/null',
    connectTimeoutSeconds: 2,
    commandTimeoutSeconds: 20,
    rebootCommand: [f.rebootCommand],
    pollIntervalMs: 500,
  };
}

async function keygen(file: string, comment: string): Promise<void> {
  if (!existsSync(file)) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { timeout: 10_000 });
}

/**
 * The keys and files every host's sshd and the operator's ssh use: made once
 * per lab (a host keeps its host key across reboots, as a real one does).
 */
export async function prepareLabSsh(labDir: string, hosts: Host[]): Promise<void> {
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
  writeFileSync(f.rebootCommand, rebootScript(labDir), { mode: 0o700 });
  chmodSync(f.rebootCommand, 0o700);
}

/** The lab's `systemctl reboot`: run by root in the host's ssh session; the host it names is the one sshd set (SetEnv). */
function rebootScript(labDir: string): string {
  const gameday = [process.execPath, join(PROJECT_ROOT, 'bin', 'gameday.js')].map(shellQuote).join(' ');
  return [
    '#!/bin/sh',
    '# A lab host\'s reboot (gameday lab/sshd.ts): the lab restarts this host\'s processes once this session has returned.',
    'host="${GAMEDAY_LAB_HOST:?not a lab host}"',
    `setsid ${gameday} lab reboot "$host" --dir ${shellQuote(labDir)} </dev/null >>${shellQuote(join(sshDir(labDir), 'reboots.log'))} 2>&1 &`,
    'echo "gameday lab: $host is going down for a reboot"',
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
    `SetEnv GAMEDAY_LAB_HOST=${host.name}`,
    '',
  ].join('\n');
}

/** The machine's uptime in seconds, as the initial time namespace counts it (this process may be in a lab host's own). */
export function machineUptimeSeconds(): number {
  const up = Number(readFileSync('/proc/uptime', 'utf8').split(/\s+/)[0]);
  const offset = /^boottime\s+(-?\d+)/m.exec(readFileSync('/proc/self/timens_offsets', 'utf8'));
  return up - Number(offset?.[1] ?? 0);
}

function accepts(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port, timeout: 1000 });
    const done = (ok: boolean) => (sock.destroy(), resolve(ok));
    sock.once('connect', () => done(true));
    sock.once('timeout', () => done(false));
    sock.once('error', () => done(false));
  });
}

/**
 * The host's sshd, in a time namespace whose boot clock reads the host's age:
 * `bootedAt` is when its first running process started (now, on a boot).
 */
export function sshdSpec(labDir: string, host: Host, logDir: string, bootedAt: number): ProcessSpec {
  const f = labSshFiles(labDir);
  const hostUptime = Math.max(0, (Date.now() - bootedAt) / 1000);
  return {
    id: `${host.name}/sshd`,
    host: host.name,
    prepare: () => writeFileSync(f.sshdConfig(host.name), sshdConfig(labDir, host), { mode: 0o600 }),
    // unshare execs sshd in place (the PID is sshd's); the offset is whole seconds, never below the machine's boot.
    command: 'unshare',
    args: ['--time', '--boottime', String(Math.min(0, Math.ceil(hostUptime - machineUptimeSeconds()))), '--', '/usr/sbin/sshd', '-D', '-e', '-f', f.sshdConfig(host.name)],
    logFile: join(logDir, 'sshd.log'),
    ready: () => accepts(host.address, LAB_SSH_PORT),
  };
}
