import { execa } from '../exec.js';
import { z } from 'zod';
import { type Host } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { systemClock, type Clock } from './clock.js';
import { parseProcUptime } from './procUptime.js';
import { shellCommandLine } from './shellQuote.js';
import type { PowerDriver } from './types.js';

/**
 * Power of a server reached over SSH, through the system `ssh` binary (so the
 * user's agent, ssh_config, ProxyJump and known_hosts keep working).
 *
 * - uptime: `cat /proc/uptime` on the host;
 * - reboot: `systemctl reboot` (configurable, e.g. `sudo -n systemctl reboot`);
 * - back: SSH answers again and /proc/uptime shows a boot after the request.
 *
 * Safety: ssh is run with an argv array (never a local shell); the remote
 * command is a fixed string or every word is single-quoted (ssh joins its
 * arguments into one string for the REMOTE shell); the destination must look
 * like a host name or address, so it can never be read as an ssh option.
 */

const log = rootLog.child({ driver: 'power.ssh' });

/** A path given to ssh, also inside `-o Key=value` where ssh splits on blanks and quotes. */
const sshPath = z
  .string()
  .min(1)
  .regex(/^[^\s"'\\\p{Cc}]+$/u, 'must be a path without blanks, quotes, backslashes or control characters');

export const sshPowerOptionsSchema = z
  .object({
    /** Remote user (`ssh -l`); default: whatever ssh_config says (usually the local user). */
    user: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'must be a user name: letters, digits, "_", "." and "-", not starting with "-"')
      .optional(),
    /** A bastion to go through (`ssh -J`), e.g. ops@bastion.example.com:2222. */
    jumpHost: z
      .string()
      .regex(/^([A-Za-z_][A-Za-z0-9_.-]*@)?[A-Za-z0-9][A-Za-z0-9.-]*(:\d{1,5})?$/, 'must be [user@]host[:port], e.g. ops@bastion.example.com')
      .optional(),
    /** Remote port (`ssh -p`); default: ssh_config's, usually 22. */
    port: z.number().int().min(1).max(65535).optional(),
    /** Private key (`ssh -i`, with IdentitiesOnly=yes). */
    identityFile: sshPath.optional(),
    /** Known-hosts policy: strict (default; unknown keys fail), accept-new (trust on first use), off. */
    hostKeyChecking: z.enum(['strict', 'accept-new', 'off']).default('strict'),
    /** Known-hosts file instead of ~/.ssh/known_hosts. */
    knownHostsFile: sshPath.optional(),
    /** ssh_config file (`ssh -F`), e.g. /dev/null to ignore the user's config. */
    configFile: sshPath.optional(),
    /** Seconds ssh waits for a TCP connection (ConnectTimeout). */
    connectTimeoutSeconds: z.number().int().min(1).max(300).default(10),
    /** Seconds one ssh command may take in all before it is killed. */
    commandTimeoutSeconds: z.number().int().min(1).max(3600).default(60),
    /** The reboot command as an argv; each word is quoted for the remote shell. */
    rebootCommand: z
      .array(z.string())
      .min(1)
      .refine((argv) => argv[0] !== '', 'the first word (the command) cannot be empty')
      .default(['systemctl', 'reboot']),
    /** Pause between two probes while waiting for the host to come back. */
    pollIntervalMs: z.number().int().min(1).default(5000),
    /** The ssh binary. */
    sshBinary: z.string().min(1).default('ssh'),
    /**
     * STONITH before a failover (docs/game-days.md, "Fencing"): the management host that can cut a host's
     * power (an IPMI or PDU jump box), reached with the options above, and the two commands run there:
     * `fenceCommand` cuts the power, `fenceStatusCommand` prints it ("off"/"on", as ipmitool's "Chassis
     * Power is off"). `{host}` and `{address}` in a word stand for the target's name and address.
     */
    fenceHost: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'must be a host name or address, e.g. ipmi-gw.example.com').optional(),
    fenceCommand: z.array(z.string()).min(1).optional(),
    fenceStatusCommand: z.array(z.string()).min(1).optional(),
  })
  .strict();

export type SshPowerOptionsInput = z.input<typeof sshPowerOptionsSchema>;
export type SshPowerOptions = z.output<typeof sshPowerOptionsSchema>;

/** What one ssh run ended with. `exitCode` is -1 when ssh could not be started at all. */
export interface SshResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Runs `file` with `args` (no shell) and never throws for a non-zero exit. */
export type SshRunner = (file: string, args: readonly string[], timeoutMs: number) => Promise<SshResult>;

export const execaSshRunner: SshRunner = async (file, args, timeoutMs) => {
  const r = await execa(file, [...args], {
    reject: false,
    shell: false,
    stdin: 'ignore',
    timeout: timeoutMs,
    forceKillAfterDelay: 2000,
  });
  const stderr = typeof r.stderr === 'string' ? r.stderr : '';
  return {
    exitCode: r.exitCode ?? -1,
    stdout: typeof r.stdout === 'string' ? r.stdout : '',
    // Not started (e.g. no ssh binary) or killed: say so instead of an empty message.
    stderr: r.exitCode === undefined && !r.timedOut && stderr === '' ? (r.shortMessage ?? '') : stderr,
    timedOut: r.timedOut,
  };
};

/** Host names, IPv4 and IPv6 addresses (with an optional %zone); nothing ssh could read as an option or user@. */
const DESTINATION = /^[A-Za-z0-9_.:%-]+$/;

/** The address ssh connects to for this host, refused when it could be misread. */
export function sshDestination(host: Pick<Host, 'name' | 'address'>): string {
  const dest = host.address;
  if (dest.startsWith('-')) {
    throw new GamedayError(
      'POWER_SSH_BAD_ADDRESS',
      `address "${dest}" starts with "-": ssh would read it as an option`,
      `host ${host.name}: address`,
      'give the host name or IP address gameday should connect to',
    );
  }
  if (!DESTINATION.test(dest)) {
    throw new GamedayError(
      'POWER_SSH_BAD_ADDRESS',
      `address ${JSON.stringify(dest)} is not a host name or IP address`,
      `host ${host.name}: address`,
      'use letters, digits, ".", "-", ":" only; set the ssh user with the ssh "user" option, not user@host',
    );
  }
  return dest;
}

const HOST_KEY_CHECKING = { strict: 'yes', 'accept-new': 'accept-new', off: 'no' } as const;

/** The full argv for `ssh` running `remoteCommand` (already one string for the remote shell) on `destination`. */
export function sshArgv(options: SshPowerOptions, destination: string, remoteCommand: string): string[] {
  if (destination.startsWith('-') || !DESTINATION.test(destination)) {
    throw new TypeError(`unsafe ssh destination: ${JSON.stringify(destination)}`);
  }
  const args: string[] = [];
  if (options.configFile) args.push('-F', options.configFile);
  args.push(
    '-T',
    '-o', 'BatchMode=yes',
    '-o', `ConnectTimeout=${options.connectTimeoutSeconds}`,
    '-o', `StrictHostKeyChecking=${HOST_KEY_CHECKING[options.hostKeyChecking]}`,
    // A host that goes down mid-command ends ssh with 255 in ~15 s instead of hanging.
    '-o', 'ServerAliveInterval=5',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'LogLevel=ERROR',
  );
  if (options.knownHostsFile) args.push('-o', `UserKnownHostsFile=${options.knownHostsFile}`);
  if (options.identityFile) args.push('-i', options.identityFile, '-o', 'IdentitiesOnly=yes');
  if (options.jumpHost) args.push('-J', options.jumpHost);
  if (options.port !== undefined) args.push('-p', String(options.port));
  if (options.user !== undefined) args.push('-l', options.user);
  args.push('--', destination, remoteCommand);
  return args;
}

/** ssh's own failures to connect or log in (exit 255), as opposed to a connection dropped mid-command. */
const CONNECT_FAILURE =
  /connection refused|connection timed out|no route to host|network is unreachable|could not resolve hostname|name or service not known|permission denied|host key verification failed|connect to host|too many authentication failures/i;

function lastLine(text: string): string {
  const lines = text.trim().split('\n').filter((l) => l.trim() !== '');
  return lines.at(-1)?.trim() ?? '';
}

function hintFor(stderr: string): string {
  if (/host key verification failed/i.test(stderr)) {
    return 'the host key is unknown or changed: add it to known_hosts (ssh-keyscan), or set hostKeyChecking to accept-new';
  }
  if (/permission denied/i.test(stderr)) {
    return 'ssh runs in BatchMode: the key must be loaded in ssh-agent or given as identityFile, and authorized on the host';
  }
  return 'check that the host is up and that `ssh <address> true` works from here without a prompt';
}

export class SshPowerDriver implements PowerDriver {
  readonly kind = 'ssh' as const;
  readonly options: SshPowerOptions;
  private readonly run: SshRunner;
  private readonly clock: Clock;

  /** Only with a fence configured: the power state and the power cut that fencing before a failover needs. */
  readonly powerState?: (host: Host) => Promise<'on' | 'off'>;
  readonly powerOff?: (host: Host) => Promise<void>;

  constructor(options: SshPowerOptionsInput = {}, deps: { run?: SshRunner; clock?: Clock } = {}) {
    const parsed = sshPowerOptionsSchema.safeParse(options);
    if (!parsed.success) {
      throw new GamedayError('POWER_SSH_OPTIONS', z.prettifyError(parsed.error), 'ssh power options', 'see SshPowerOptions in drivers/power/ssh.ts');
    }
    this.options = parsed.data;
    this.run = deps.run ?? execaSshRunner;
    this.clock = deps.clock ?? systemClock;
    const { fenceHost, fenceCommand, fenceStatusCommand } = this.options;
    const given = [fenceHost, fenceCommand, fenceStatusCommand].filter((x) => x !== undefined).length;
    if (given > 0 && given < 3) {
      throw new GamedayError('POWER_SSH_OPTIONS', 'fenceHost, fenceCommand and fenceStatusCommand go together: a power cut that cannot be confirmed proves nothing', 'ssh power options', 'give all three, or none');
    }
    if (fenceHost && fenceCommand && fenceStatusCommand) {
      this.powerState = (host) => this.fencePowerState(host, fenceHost, fenceStatusCommand);
      this.powerOff = (host) => this.fencePowerOff(host, fenceHost, fenceCommand, fenceStatusCommand);
    }
  }

  /** A fence command for this host: {host} and {address} filled in, every word quoted for the management host's shell. */
  private fenceLine(argv: string[], host: Host): string {
    const address = sshDestination(host);
    return shellCommandLine(argv.map((w) => w.replaceAll('{host}', host.name).replaceAll('{address}', address)));
  }

  private async fencePowerState(host: Host, fenceHost: string, status: string[]): Promise<'on' | 'off'> {
    const r = await this.run(this.options.sshBinary, sshArgv(this.options, fenceHost, this.fenceLine(status, host)), this.options.commandTimeoutSeconds * 1000);
    if (r.exitCode !== 0 || r.timedOut) throw new GamedayError('POWER_SSH_FENCE_FAILED', `the power status of ${host.name} from ${fenceHost} failed: ${r.timedOut ? 'timed out' : lastLine(r.stderr) || `exit ${r.exitCode}`}`, `host ${host.name}`, 'check the fenceStatusCommand on the management host');
    // "off" and not "on", or the other way round; anything else is no answer.
    const off = /\boff\b/i.test(r.stdout);
    const on = /\bon\b/i.test(r.stdout);
    if (off !== on) return off ? 'off' : 'on';
    throw new GamedayError('POWER_SSH_FENCE_FAILED', `the power status of ${host.name} says neither on nor off: ${JSON.stringify(r.stdout.trim().slice(0, 80))}`, `host ${host.name}`, 'the fenceStatusCommand must print the state, e.g. "Chassis Power is off"');
  }

  /** Cuts the power from the management host, then waits until its status says off. */
  private async fencePowerOff(host: Host, fenceHost: string, cut: string[], status: string[]): Promise<void> {
    log.warn({ host: host.name, fenceHost }, 'cutting the power (STONITH) from the management host');
    const r = await this.run(this.options.sshBinary, sshArgv(this.options, fenceHost, this.fenceLine(cut, host)), this.options.commandTimeoutSeconds * 1000);
    if (r.exitCode !== 0 || r.timedOut) throw new GamedayError('POWER_SSH_FENCE_FAILED', `the power cut of ${host.name} from ${fenceHost} failed: ${r.timedOut ? 'timed out' : lastLine(r.stderr) || `exit ${r.exitCode}`}`, `host ${host.name}`, 'check the fenceCommand on the management host; the host may still have power');
    const deadline = this.clock.now() + this.options.commandTimeoutSeconds * 1000;
    while ((await this.fencePowerState(host, fenceHost, status)) !== 'off') {
      if (this.clock.now() >= deadline) throw new GamedayError('POWER_SSH_FENCE_FAILED', `${host.name} still has power ${this.options.commandTimeoutSeconds} s after the cut`, `host ${host.name}`, 'check its power by hand');
      await this.clock.sleep(1000);
    }
  }

  /** The argv of ssh running `remoteCommand` on this host (for tests and `plan` output). */
  argvFor(host: Host, remoteCommand: string): string[] {
    return sshArgv(this.options, sshDestination(host), remoteCommand);
  }

  /** The reboot command line the remote shell receives, every word quoted. */
  rebootCommandLine(): string {
    return shellCommandLine(this.options.rebootCommand);
  }

  private exec(host: Host, remoteCommand: string, timeoutMs = this.options.commandTimeoutSeconds * 1000): Promise<SshResult> {
    return this.run(this.options.sshBinary, this.argvFor(host, remoteCommand), Math.max(1, timeoutMs));
  }

  private unreachable(host: Host, r: SshResult, what: string): GamedayError {
    const why = r.timedOut ? 'ssh timed out' : r.exitCode === -1 ? `ssh could not start: ${r.stderr}` : lastLine(r.stderr) || `ssh exited with ${r.exitCode}`;
    return new GamedayError('POWER_SSH_UNREACHABLE', `cannot ${what} over ssh at ${host.address}: ${why}`, `host ${host.name}`, hintFor(r.stderr));
  }

  async uptimeSeconds(host: Host, timeoutMs?: number): Promise<number> {
    const r = await this.exec(host, 'cat /proc/uptime', timeoutMs);
    if (r.exitCode === 255 || r.exitCode === -1 || r.timedOut) throw this.unreachable(host, r, 'read the uptime');
    if (r.exitCode !== 0) {
      throw new GamedayError(
        'POWER_SSH_COMMAND_FAILED',
        `cat /proc/uptime failed with exit code ${r.exitCode}: ${lastLine(r.stderr)}`,
        `host ${host.name}`,
        'the host must be Linux (it needs /proc/uptime)',
      );
    }
    const up = parseProcUptime(r.stdout);
    if (up === undefined) {
      throw new GamedayError(
        'POWER_SSH_BAD_UPTIME',
        `/proc/uptime gave ${JSON.stringify(r.stdout.slice(0, 80))}, not "<seconds> <idle seconds>"`,
        `host ${host.name}`,
        'a login banner or shell profile may print to stdout: keep non-interactive logins quiet',
      );
    }
    return up;
  }

  async reboot(host: Host): Promise<void> {
    // Proves the host answers before anything is requested: a 255 below then means the drop of a reboot.
    await this.uptimeSeconds(host);
    const command = this.rebootCommandLine();
    log.info({ host: host.name, address: host.address, command }, 'requesting reboot over ssh');
    const r = await this.exec(host, command);
    if (r.exitCode === 0) return;
    if (r.exitCode === 255 && !r.timedOut && !CONNECT_FAILURE.test(r.stderr)) {
      // The host went down under the session: that is the reboot happening.
      log.info({ host: host.name, ssh: lastLine(r.stderr) }, 'ssh connection dropped after the reboot request (expected)');
      return;
    }
    if (r.timedOut) {
      throw new GamedayError(
        'POWER_SSH_REBOOT_FAILED',
        `the reboot command did not end within ${this.options.commandTimeoutSeconds} s`,
        `host ${host.name}`,
        'the reboot may or may not have been requested: check the host uptime before retrying',
      );
    }
    if (r.exitCode === 255 || r.exitCode === -1) throw this.unreachable(host, r, 'request a reboot');
    throw new GamedayError(
      'POWER_SSH_REBOOT_FAILED',
      `${command} failed with exit code ${r.exitCode}: ${lastLine(r.stderr) || '(no message)'}`,
      `host ${host.name}`,
      /sudo/.test(r.stderr)
        ? 'sudo needs a password here: allow the reboot command without one (NOPASSWD) or log in as a user who may reboot'
        : 'set the rebootCommand option, e.g. ["sudo", "-n", "systemctl", "reboot"] when the ssh user is not root',
    );
  }

  async waitUntilBack(host: Host, since: Date, timeoutMs: number): Promise<void> {
    sshDestination(host); // a bad address fails now, not after the timeout
    const deadline = this.clock.now() + timeoutMs;
    // Both are reported at the timeout: the last probe may have been cut short by the deadline.
    let lastAnswer: string | undefined;
    let lastError: string | undefined;
    for (;;) {
      const started = this.clock.now();
      const remaining = deadline - started;
      if (remaining <= 0) break;
      try {
        const up = await this.uptimeSeconds(host, Math.min(remaining, this.options.commandTimeoutSeconds * 1000));
        // Measured from when the probe started, so the boot time is never placed later than it was.
        const bootedAt = started - up * 1000;
        if (bootedAt > since.getTime()) {
          log.info({ host: host.name, bootedAt: new Date(bootedAt).toISOString(), uptimeSeconds: up }, 'host is back');
          return;
        }
        lastAnswer = `still up since ${new Date(bootedAt).toISOString()}, before the reboot request`;
        lastError = undefined;
      } catch (err) {
        if (!(err instanceof GamedayError)) throw err;
        lastError = err.message;
      }
      const pause = Math.min(this.options.pollIntervalMs, deadline - this.clock.now());
      if (pause <= 0) break;
      await this.clock.sleep(pause);
    }
    const last = [lastError && `last error: ${lastError}`, lastAnswer && `last answer: ${lastAnswer}`].filter(Boolean).join('; ');
    throw new GamedayError(
      'POWER_SSH_NOT_BACK',
      `not back within ${Math.round(timeoutMs / 1000)} s of the reboot requested at ${since.toISOString()}; ${last || 'no probe ran'}`,
      `host ${host.name}`,
      'look at the host console; once it is up, resume the run',
    );
  }
}
