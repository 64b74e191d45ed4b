import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, describe, expect, it } from 'vitest';
import { type Host } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import { powerDriverFor } from '../../../drivers/power/index.js';
import { shellCommandLine, shellQuote } from '../../../drivers/power/shellQuote.js';
import { parseProcUptime } from '../../../drivers/power/procUptime.js';
import { SshPowerDriver, sshArgv, sshDestination, sshPowerOptionsSchema, type SshResult } from '../../../drivers/power/ssh.js';

const host: Host = { name: 'db-1', tier: 'db', zone: 'az-a', rack: 'a1', address: '10.0.1.11', services: {}, power: 'ssh' };
const withAddress = (address: string): Host => ({ ...host, address });

const scratch = mkdtempSync(join(tmpdir(), 'gameday-power-ssh-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const canary = join(scratch, 'pwned');
const HOSTILE = [
  '; rm -rf /',
  '$(id)',
  '`id`',
  `$(touch ${canary})`,
  `; touch ${canary}`,
  `'; touch ${canary}; '`,
  `"; touch ${canary}; "`,
  `\ntouch ${canary}\n`,
  "it's",
  'a"b\'c',
  "''",
  '\\',
  '\\\'',
  '$HOME ${PATH} $0 $@',
  '* ? [a-z]',
  '&& echo x || echo y | cat > /dev/null &',
  '  leading and trailing  ',
  '',
  '-rf',
  '#comment',
  '~root',
  'ünïcödé ✓',
  'tab\there',
];

/** Runs the quoted command line in a real shell and reads the argv it saw back, NUL-separated. */
async function argvSeenBy(shell: string, args: string[]): Promise<string[]> {
  const line = `printf '%s\\0' ${shellCommandLine(args)}`;
  const r = await execa(shell, ['-c', line]);
  return r.stdout.split('\0').slice(0, -1);
}

describe('shellQuote', () => {
  it('quotes every word so that a POSIX shell gives back exactly the argv, and runs nothing', async () => {
    for (const shell of ['/bin/sh', 'bash']) {
      expect(await argvSeenBy(shell, HOSTILE)).toEqual(HOSTILE);
      for (const arg of HOSTILE) expect(await argvSeenBy(shell, [arg])).toEqual([arg]);
    }
    expect(existsSync(canary)).toBe(false);
  }, 20_000); // some forty shells, one after another: seconds on a busy machine

  it('writes a single quote as close-escape-reopen and refuses NUL bytes and empty commands', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
    expect(shellQuote('')).toBe(`''`);
    expect(() => shellQuote('a\0b')).toThrow(/NUL/);
    expect(() => shellCommandLine([])).toThrow(/empty/);
  });
});

describe('ssh argv', () => {
  it('with defaults: batch mode, timeouts, strict host keys, then -- destination and ONE remote command', () => {
    const options = sshPowerOptionsSchema.parse({});
    expect(sshArgv(options, '10.0.1.11', 'cat /proc/uptime')).toEqual([
      '-T',
      '-o', 'BatchMode=yes',
      '-o', 'ConnectTimeout=10',
      '-o', 'StrictHostKeyChecking=yes',
      '-o', 'ServerAliveInterval=5',
      '-o', 'ServerAliveCountMax=3',
      '-o', 'LogLevel=ERROR',
      '--', '10.0.1.11', 'cat /proc/uptime',
    ]);
  });

  it('with every option set', () => {
    const options = sshPowerOptionsSchema.parse({
      user: 'ops',
      port: 2222,
      identityFile: '/home/ops/.ssh/id_ed25519',
      hostKeyChecking: 'accept-new',
      knownHostsFile: '/etc/gameday/known_hosts',
      configFile: '/dev/null',
      connectTimeoutSeconds: 3,
    });
    const argv = sshArgv(options, 'db-1.example.net', 'cat /proc/uptime');
    expect(argv.slice(0, 2)).toEqual(['-F', '/dev/null']);
    expect(argv).toContain('ConnectTimeout=3');
    expect(argv).toContain('StrictHostKeyChecking=accept-new');
    expect(argv).toContain('UserKnownHostsFile=/etc/gameday/known_hosts');
    expect(argv.join(' ')).toContain('-i /home/ops/.ssh/id_ed25519 -o IdentitiesOnly=yes -p 2222 -l ops -- db-1.example.net');
    expect(argv.at(-1)).toBe('cat /proc/uptime');
    expect(argv.indexOf('--')).toBe(argv.length - 3);
  });

  it('host key checking "off" maps to StrictHostKeyChecking=no', () => {
    expect(sshArgv(sshPowerOptionsSchema.parse({ hostKeyChecking: 'off' }), 'h', 'true')).toContain('StrictHostKeyChecking=no');
  });

  it('refuses an address that ssh could read as an option, a user@, or a second word', () => {
    for (const bad of ['-oProxyCommand=touch /tmp/x', '-p', 'root@db-1', 'db-1 id', 'db-1;id', 'db-1\nid', '$(id)', 'ssh://db-1', '']) {
      let err: unknown;
      try {
        sshDestination(withAddress(bad));
      } catch (e) {
        err = e;
      }
      expect(err, bad).toBeInstanceOf(GamedayError);
      expect((err as GamedayError).code).toBe('POWER_SSH_BAD_ADDRESS');
      expect((err as GamedayError).input).toBe('host db-1: address');
    }
    expect(() => sshDestination(withAddress('-oProxyCommand=x'))).toThrow(/starts with "-"/);
    expect(() => sshArgv(sshPowerOptionsSchema.parse({}), '-oProxyCommand=x', 'true')).toThrow(/unsafe/);
  });

  it('accepts host names, IPv4 and IPv6 addresses', () => {
    for (const ok of ['db-1', 'db-1.dc1.example.net', '10.0.1.11', '::1', 'fe80::1%eth0', '2001:db8::7']) {
      expect(sshDestination(withAddress(ok))).toBe(ok);
    }
  });

  it('refuses bad options with a GamedayError naming them', () => {
    for (const bad of [{ user: '-oProxyCommand=x' }, { user: 'a b' }, { port: 0 }, { knownHostsFile: '/tmp/a b' }, { identityFile: '/tmp/"x' }, { rebootCommand: [] }, { rebootCommand: ['', 'reboot'] }, { nope: 1 }]) {
      let err: unknown;
      try {
        new SshPowerDriver(bad as never);
      } catch (e) {
        err = e;
      }
      expect(err, JSON.stringify(bad)).toBeInstanceOf(GamedayError);
      expect((err as GamedayError).code).toBe('POWER_SSH_OPTIONS');
    }
  });
});

/** A fake ssh: records every argv, answers from a script of results (the last one repeats). */
function fakeSsh(...answers: Array<Partial<SshResult>>) {
  const calls: string[][] = [];
  let i = 0;
  const run = async (file: string, args: readonly string[]) => {
    calls.push([file, ...args]);
    const a = answers[Math.min(i++, answers.length - 1)]!;
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...a };
  };
  return { run, calls, remoteCommands: () => calls.map((c) => c.at(-1)) };
}

function fakeClock(start = Date.parse('2025-06-01T12:00:00Z')) {
  const c = { t: start, now: () => c.t, sleep: async (ms: number) => void (c.t += ms) };
  return c;
}

const UP = (s: number): Partial<SshResult> => ({ stdout: `${s.toFixed(2)} 1234.56\n` });
const DOWN: Partial<SshResult> = { exitCode: 255, stderr: 'ssh: connect to host 10.0.1.11 port 22: Connection refused\n' };

describe('ssh power driver', () => {
  it('reads the uptime from /proc/uptime', async () => {
    const ssh = fakeSsh(UP(15_552_123.45));
    const driver = new SshPowerDriver({ user: 'ops' }, { run: ssh.run });
    expect(await driver.uptimeSeconds(host)).toBe(15_552_123.45);
    expect(ssh.calls[0]![0]).toBe('ssh');
    expect(ssh.calls[0]!.slice(-3)).toEqual(['--', '10.0.1.11', 'cat /proc/uptime']);
    expect(parseProcUptime('  12.5 3.0 ')).toBe(12.5);
    expect(parseProcUptime('Welcome!\n12.5 3.0')).toBeUndefined();
  });

  it('says why the uptime could not be read', async () => {
    await expect(new SshPowerDriver({}, { run: fakeSsh(DOWN).run }).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_UNREACHABLE',
      message: expect.stringContaining('Connection refused'),
    });
    await expect(
      new SshPowerDriver({}, { run: fakeSsh({ exitCode: 255, stderr: 'root@10.0.1.11: Permission denied (publickey).' }).run }).uptimeSeconds(host),
    ).rejects.toMatchObject({ code: 'POWER_SSH_UNREACHABLE', hint: expect.stringContaining('BatchMode') });
    await expect(
      new SshPowerDriver({}, { run: fakeSsh({ exitCode: 255, stderr: 'Host key verification failed.' }).run }).uptimeSeconds(host),
    ).rejects.toMatchObject({ hint: expect.stringContaining('known_hosts') });
    await expect(new SshPowerDriver({}, { run: fakeSsh({ exitCode: 1, stderr: 'cat: /proc/uptime: No such file' }).run }).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_COMMAND_FAILED',
    });
    await expect(new SshPowerDriver({}, { run: fakeSsh({ stdout: 'Welcome to db-1!\n' }).run }).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_BAD_UPTIME',
    });
    await expect(new SshPowerDriver({}, { run: fakeSsh({ timedOut: true, exitCode: -1 }).run }).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_UNREACHABLE',
      message: expect.stringContaining('timed out'),
    });
  });

  it('reboots with systemctl reboot after checking the host answers', async () => {
    const ssh = fakeSsh(UP(100), {});
    await new SshPowerDriver({}, { run: ssh.run }).reboot(host);
    expect(ssh.remoteCommands()).toEqual(['cat /proc/uptime', `'systemctl' 'reboot'`]);
  });

  it('sends a configured reboot command with every word quoted', async () => {
    const ssh = fakeSsh(UP(100), {});
    await new SshPowerDriver({ rebootCommand: ['sudo', '-n', 'systemctl', 'reboot', '; rm -rf /'] }, { run: ssh.run }).reboot(host);
    expect(ssh.remoteCommands()[1]).toBe(`'sudo' '-n' 'systemctl' 'reboot' '; rm -rf /'`);
    expect(new SshPowerDriver({ rebootCommand: ['printf', ''] }).rebootCommandLine()).toBe(`'printf' ''`);
  });

  it('takes exit 255 after the request (the host dropped the session) as a reboot under way', async () => {
    for (const stderr of ['Connection to 10.0.1.11 closed by remote host.\n', 'Timeout, server 10.0.1.11 not responding.', 'client_loop: send disconnect: Broken pipe', '']) {
      const ssh = fakeSsh(UP(100), { exitCode: 255, stderr });
      await expect(new SshPowerDriver({}, { run: ssh.run }).reboot(host)).resolves.toBeUndefined();
    }
  });

  it('fails a reboot that was refused, and never sends one to a host that does not answer', async () => {
    const sudo = fakeSsh(UP(100), { exitCode: 1, stderr: 'sudo: a password is required\n' });
    await expect(new SshPowerDriver({ rebootCommand: ['sudo', '-n', 'systemctl', 'reboot'] }, { run: sudo.run }).reboot(host)).rejects.toMatchObject({
      code: 'POWER_SSH_REBOOT_FAILED',
      message: expect.stringContaining('exit code 1: sudo: a password is required'),
      hint: expect.stringContaining('NOPASSWD'),
    });

    const denied = fakeSsh(UP(100), { exitCode: 255, stderr: 'ops@10.0.1.11: Permission denied (publickey).' });
    await expect(new SshPowerDriver({}, { run: denied.run }).reboot(host)).rejects.toMatchObject({ code: 'POWER_SSH_UNREACHABLE' });

    const down = fakeSsh(DOWN);
    await expect(new SshPowerDriver({}, { run: down.run }).reboot(host)).rejects.toMatchObject({ code: 'POWER_SSH_UNREACHABLE' });
    expect(down.remoteCommands()).toEqual(['cat /proc/uptime']);

    const hung = fakeSsh(UP(100), { exitCode: -1, timedOut: true });
    await expect(new SshPowerDriver({}, { run: hung.run }).reboot(host)).rejects.toMatchObject({
      code: 'POWER_SSH_REBOOT_FAILED',
      hint: expect.stringContaining('may or may not'),
    });
  });

  it('refuses a hostile address before running anything', async () => {
    const ssh = fakeSsh(UP(100));
    const driver = new SshPowerDriver({}, { run: ssh.run });
    await expect(driver.reboot(withAddress('-oProxyCommand=reboot'))).rejects.toMatchObject({ code: 'POWER_SSH_BAD_ADDRESS' });
    await expect(driver.waitUntilBack(withAddress('x;reboot'), new Date(), 60_000)).rejects.toMatchObject({ code: 'POWER_SSH_BAD_ADDRESS' });
    expect(ssh.calls).toEqual([]);
  });

  it('waits until ssh answers again with a boot after the request', async () => {
    const clock = fakeClock();
    const since = new Date(clock.t);
    // still up (old boot), then down twice, then up with 3 s of uptime.
    const ssh = fakeSsh(UP(86_400), DOWN, DOWN, UP(3));
    const driver = new SshPowerDriver({ pollIntervalMs: 5_000 }, { run: ssh.run, clock });
    await driver.waitUntilBack(host, since, 120_000);
    expect(ssh.calls).toHaveLength(4);
    expect(clock.t - since.getTime()).toBe(15_000);
  });

  it('does not take a host that never went down as back, and says so at the timeout', async () => {
    const clock = fakeClock();
    const ssh = fakeSsh(UP(86_400));
    const driver = new SshPowerDriver({ pollIntervalMs: 5_000 }, { run: ssh.run, clock });
    await expect(driver.waitUntilBack(host, new Date(clock.t), 30_000)).rejects.toMatchObject({
      code: 'POWER_SSH_NOT_BACK',
      message: expect.stringContaining('before the reboot request'),
    });
    expect(ssh.calls.length).toBe(6); // at 0, 5, … 25 s
  });

  it('times out with the last ssh error when the host stays down', async () => {
    const clock = fakeClock();
    const driver = new SshPowerDriver({ pollIntervalMs: 5_000 }, { run: fakeSsh(DOWN).run, clock });
    const err = await driver.waitUntilBack(host, new Date(clock.t), 20_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GamedayError);
    expect((err as GamedayError).describe()).toMatch(/error POWER_SSH_NOT_BACK: host db-1: not back within 20 s .*Connection refused/);
  });
});

describe('powerDriverFor', () => {
  it('picks the driver from host.power, ssh by default, and leaves lab hosts to lab/', () => {
    expect(powerDriverFor(host).kind).toBe('ssh');
    expect(powerDriverFor({ ...host, power: undefined }).kind).toBe('ssh');
    expect(powerDriverFor({ ...host, power: undefined }, { defaultKind: 'aws' }).kind).toBe('aws');
    expect(powerDriverFor({ ...host, power: 'aws', id: 'i-0123456789abcdef0' }).kind).toBe('aws');
    expect(() => powerDriverFor({ ...host, power: 'lab' })).toThrow(/provided by lab\//);
    expect(() => powerDriverFor({ ...host, power: 'lab' })).toThrow(GamedayError);
    expect(powerDriverFor(host, { ssh: { user: 'ops' } })).toMatchObject({ options: { user: 'ops' } });
  });
});
