import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Host } from '../../../topology/index.js';
import { SshPowerDriver, type SshPowerOptionsInput } from '../../../drivers/power/ssh.js';

/**
 * The ssh power driver against a real OpenSSH server: our own sshd, started
 * on 127.0.0.1 with a temporary host key and authorized key, stopped by its
 * PID at the end. The reboot command is replaced by harmless ones: this test
 * never reboots anything.
 */

const SSHD = '/usr/sbin/sshd';
/** sshd refuses to start without it. */
const PRIVSEP_DIR = '/run/sshd';

const dir = mkdtempSync(join(tmpdir(), 'gameday-power-ssh-'));
const file = (name: string) => join(dir, name);
let sshd: ChildProcess | undefined;
let sshdLog = '';
let port = 0;

const host: Host = { name: 'box-1', tier: 'web', zone: 'dc-1', rack: 'r1', address: '127.0.0.1', services: {}, power: 'ssh' };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port: p } = srv.address() as { port: number };
      srv.close(() => resolve(p));
    });
  });
}

function accepts(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: p });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

function options(extra: SshPowerOptionsInput = {}): SshPowerOptionsInput {
  return {
    user: userInfo().username,
    port,
    identityFile: file('client_key'),
    knownHostsFile: file('known_hosts'),
    hostKeyChecking: 'strict',
    configFile: '/dev/null',
    connectTimeoutSeconds: 5,
    commandTimeoutSeconds: 20,
    ...extra,
  };
}

beforeAll(async () => {
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (it installs openssh-server)`);
  for (const key of ['host_key', 'client_key', 'stranger_key']) {
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `gameday-test-${key}`, '-f', file(key)]);
  }
  writeFileSync(file('authorized_keys'), readFileSync(file('client_key.pub')), { mode: 0o600 });
  port = await freePort();
  writeFileSync(file('known_hosts'), `[127.0.0.1]:${port} ${readFileSync(file('host_key.pub'), 'utf8')}`);
  writeFileSync(file('empty_known_hosts'), '');
  writeFileSync(
    file('sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${file('host_key')}`,
      'PidFile none',
      `AuthorizedKeysFile ${file('authorized_keys')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      // The temporary folder lives under /tmp (world-writable), which StrictModes refuses.
      'StrictModes no',
      '',
    ].join('\n'),
  );
  // Made when missing and left in place, as the package's own: another sshd (a --power ssh lab beside this test) needs it too.
  if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });
  sshd = spawn(SSHD, ['-D', '-e', '-f', file('sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  sshd.stderr!.on('data', (b: Buffer) => (sshdLog += b.toString()));
  const deadline = Date.now() + 10_000;
  while (!(await accepts(port))) {
    if (sshd.exitCode !== null || Date.now() > deadline) throw new Error(`sshd did not start on 127.0.0.1:${port}: ${sshdLog}`);
    await sleep(50);
  }
}, 60_000);

afterAll(async () => {
  if (sshd?.pid !== undefined && sshd.exitCode === null) {
    // Let sshd reap its per-connection children first: killed before, they would be left to init.
    const deadline = Date.now() + 5_000;
    while (Date.now() < deadline && (await execa('pgrep', ['-P', String(sshd.pid)], { reject: false })).exitCode === 0) await sleep(100);
    const exited = new Promise((resolve) => sshd!.once('exit', resolve));
    process.kill(sshd.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function procUptime(): number {
  return Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
}

describe('ssh power driver on a real sshd', () => {
  it('reads the uptime of the host it logs in to', async () => {
    const driver = new SshPowerDriver(options());
    const before = procUptime();
    const up = await driver.uptimeSeconds(host);
    const after = procUptime();
    expect(up).toBeGreaterThanOrEqual(before);
    expect(up).toBeLessThanOrEqual(after);
  });

  it('runs the configured reboot command on the host (here: touch a file)', async () => {
    const marker = file('rebooted');
    await new SshPowerDriver(options({ rebootCommand: ['touch', marker] })).reboot(host);
    expect(existsSync(marker)).toBe(true);
  });

  it('passes every word of the reboot command through the remote shell unchanged, running none of it', async () => {
    const canary = file('pwned');
    const hostile = [
      '; rm -rf /',
      '$(id)',
      '`id`',
      `$(touch ${canary})`,
      `; touch ${canary}`,
      `'; touch ${canary}; '`,
      `"; touch ${canary}; "`,
      `\ntouch ${canary}\n`,
      `it's "quoted"`,
      '$HOME ${PATH} *',
      '\\',
      '',
    ];
    const out = file('argv');
    // sh -c SCRIPT $0 $1…: the script writes the words it received, NUL-separated.
    const rebootCommand = ['sh', '-c', 'printf "%s\\0" "$@" > "$0"', out, ...hostile];
    await new SshPowerDriver(options({ rebootCommand })).reboot(host);
    expect(readFileSync(out, 'utf8').split('\0').slice(0, -1)).toEqual(hostile);
    expect(existsSync(canary)).toBe(false);
  });

  it('takes the session dropped under the reboot command (exit 255) as a reboot under way', async () => {
    // Kills the sshd process serving this session, as a shutdown would.
    const driver = new SshPowerDriver(options({ rebootCommand: ['sh', '-c', 'kill -KILL "$PPID"'] }));
    await expect(driver.reboot(host)).resolves.toBeUndefined();
  });

  it('knows a host that never rebooted is not back, and one that booted after `since` is', async () => {
    const driver = new SshPowerDriver(options({ pollIntervalMs: 300 }));
    const bootedAt = Date.now() - procUptime() * 1000;
    await driver.waitUntilBack(host, new Date(bootedAt - 60_000), 10_000);
    await expect(driver.waitUntilBack(host, new Date(), 3_000)).rejects.toMatchObject({
      code: 'POWER_SSH_NOT_BACK',
      message: expect.stringContaining('before the reboot request'),
    });
  });

  it('says why it cannot reach a host: nothing listening, key not authorized, unknown host key', async () => {
    const closed = await freePort();
    await expect(new SshPowerDriver(options({ port: closed })).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_UNREACHABLE',
      message: expect.stringContaining('Connection refused'),
    });
    await expect(new SshPowerDriver(options({ identityFile: file('stranger_key') })).reboot(host)).rejects.toMatchObject({
      code: 'POWER_SSH_UNREACHABLE',
      message: expect.stringContaining('Permission denied'),
    });
    await expect(new SshPowerDriver(options({ knownHostsFile: file('empty_known_hosts') })).uptimeSeconds(host)).rejects.toMatchObject({
      code: 'POWER_SSH_UNREACHABLE',
      hint: expect.stringContaining('known_hosts'),
    });
  });
});
