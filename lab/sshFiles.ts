import { join } from 'node:path';
import type { SshPowerOptionsInput } from '../drivers/power/ssh.js';

/** Where a `--power ssh` lab keeps its ssh files (lab/sshd.ts), and the ssh driver's options for it: what its inventory says. */

export const LAB_SSH_PORT = 22;

export function sshDir(labDir: string): string {
  return join(labDir, 'ssh');
}

export interface LabSshFiles {
  clientKey: string;
  knownHosts: string;
  authorizedKeys: string;
  rebootCommand: string;
  /** The folder put first on the PATH of every ssh session: the lab's systemctl. */
  binDir: string;
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
    binDir: join(dir, 'bin'),
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
