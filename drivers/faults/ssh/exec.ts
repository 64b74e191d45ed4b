import type { Host } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { sshArgv, sshDestination, type SshResult, type SshRunner } from '../../power/ssh.js';
import type { SshFaultOptions } from './options.js';

/** What a non-zero exit of our scripts means, and what to do about it. */
const EXIT_HINTS: Record<number, string> = {
  3: 'sshd did not set SSH_CONNECTION: the power-off needs it to keep the controller\'s ssh open; is the login going through a wrapper that clears the environment?',
  4: 'nft failed: the host needs nftables (nft) and root (set sudo when the ssh user is not root)',
  5: 'systemctl failed: check the unit names (the units, appUnit, proxyUnit options; GAMEDAY_FAULT_UNITS) and root (sudo)',
  6: 'the MariaDB client failed: it must log in as an admin on the host without a password prompt (unix_socket as root, or mariadbCommand with --defaults-file)',
  7: 'deleting the Redis files failed: check redisDataPaths and root (sudo)',
};

function lastLines(text: string, n = 2): string {
  return text
    .trim()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join(' / ');
}

function connectHint(stderr: string): string {
  if (/host key verification failed/i.test(stderr)) return 'the host key is unknown or changed: add it to known_hosts (ssh-keyscan), or set hostKeyChecking to accept-new';
  if (/permission denied/i.test(stderr)) return 'ssh runs in BatchMode: the key must be loaded in ssh-agent or given as identityFile, and authorized on the host';
  return 'check that `ssh <address> true` works from here without a prompt; a host left powered off by gameday still takes ssh from the controller that powered it off (or from allowSshFrom); from its console: nft delete table inet <table>, or reboot it (the rules are not persistent)';
}

/** Runs one remote command on a host; anything but exit 0 is a GamedayError saying whether ssh or the command failed. */
export type SshExec = (host: Host, what: string, command: string, timeoutSeconds?: number) => Promise<SshResult>;

export function sshExec(o: SshFaultOptions, run: SshRunner): SshExec {
  return async (host, what, command, timeoutSeconds = o.ssh.commandTimeoutSeconds) => {
    const argv = sshArgv(o.ssh, sshDestination(host), command);
    const r = await run(o.ssh.sshBinary, argv, timeoutSeconds * 1000);
    if (r.exitCode === 0) return r;
    if (r.timedOut) {
      throw new GamedayError('FAULT_SSH_TIMEOUT', `${what} on ${host.name} did not end within ${timeoutSeconds} s`, `host ${host.name}`, 'it may or may not have been done: the undo is safe to run again');
    }
    if (r.exitCode === 255 || r.exitCode === -1) {
      const why = r.exitCode === -1 ? `ssh could not start: ${r.stderr}` : lastLines(r.stderr, 1) || 'ssh exited with 255';
      throw new GamedayError('FAULT_SSH_UNREACHABLE', `cannot ${what} over ssh at ${host.address}: ${why}`, `host ${host.name}`, connectHint(r.stderr));
    }
    throw new GamedayError(
      'FAULT_SSH_COMMAND',
      `${what} on ${host.name} failed with exit code ${r.exitCode}: ${lastLines(r.stderr) || lastLines(r.stdout) || '(no message)'}`,
      `host ${host.name}`,
      EXIT_HINTS[r.exitCode] ?? (/sudo/.test(r.stderr) ? 'sudo needs a password here: allow nft, systemctl, mariadb and rm without one (NOPASSWD)' : 'see the message above'),
    );
  };
}
