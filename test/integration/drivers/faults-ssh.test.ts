import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseInventory } from '../../../topology/index.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import { sshFaultDriver, type SshFaultOptionsInput } from '../../../drivers/faults/ssh.js';

/**
 * The ssh fault driver against real sshd servers and real nftables, on two
 * hosts that are network namespaces made here (a-1 and b-1, linked to each
 * other and to this machine by veth pairs, on 198.18.79.0/30, the benchmark
 * range nothing else here uses). Every nft rule the driver writes lands in a
 * namespace's own ruleset, never in the machine's: the test checks that, and
 * deletes the namespaces (with their rules, links and routes) at the end.
 * systemctl is a fake on the sessions' PATH (no systemd here) that logs what
 * it is asked; nft, sh and ssh are real.
 */

const SSHD = '/usr/sbin/sshd';
const PRIVSEP_DIR = '/run/sshd';
const tag = String(process.pid % 10000);
const NS = { a: `gdfault-a-${tag}`, b: `gdfault-b-${tag}` };
const ADDR = { a: '198.18.79.1', b: '198.18.79.2' };
const PORT = 2222;
const LISTEN = 7070;

const dir = mkdtempSync(join(tmpdir(), 'gameday-fault-ssh-'));
const file = (name: string) => join(dir, name);
const children: ChildProcess[] = [];
let machineTablesBefore: string[] = [];

const inventory = parseInventory(
  {
    name: 'netns',
    tiers: { db: {} },
    placement: { maxPerRack: 1, minZones: 2 },
    hosts: [
      { name: 'a-1', tier: 'db', role: 'primary', zone: 'z-a', rack: 'ra', address: ADDR.a, services: { mysql: 3306, redis: 6379 } },
      { name: 'b-1', tier: 'db', role: 'replica', zone: 'z-b', rack: 'rb', address: ADDR.b, services: { mysql: 3306 } },
    ],
  },
  'netns inventory',
);

function options(extra: SshFaultOptionsInput = {}): SshFaultOptionsInput {
  return {
    ssh: {
      user: userInfo().username,
      port: PORT,
      identityFile: file('client_key'),
      knownHostsFile: file('known_hosts'),
      hostKeyChecking: 'strict',
      configFile: '/dev/null',
      connectTimeoutSeconds: 5,
      commandTimeoutSeconds: 20,
    },
    ...extra,
  };
}

const ip = (...args: string[]) => execa('ip', args, { timeout: 10_000 });
const inNs = (ns: string, cmd: string, args: string[], opts: { reject?: boolean } = {}) => execa('ip', ['netns', 'exec', ns, cmd, ...args], { timeout: 15_000, reject: opts.reject ?? true });

async function tablesIn(ns?: string): Promise<string[]> {
  const r = ns ? await inNs(ns, 'nft', ['list', 'tables']) : await execa('nft', ['list', 'tables']);
  return r.stdout.split('\n').filter(Boolean);
}

/** Whether a TCP connect from `ns` (or this machine) to address:port succeeds within 1.5 s (a dropped SYN hangs). */
async function reaches(address: string, port: number, ns?: string): Promise<boolean> {
  if (ns) {
    const r = await inNs(ns, 'timeout', ['1.5', 'bash', '-c', `exec 3<>/dev/tcp/${address}/${port}`], { reject: false });
    return r.exitCode === 0;
  }
  return new Promise((resolve) => {
    const s = connect({ host: address, port, timeout: 1500 });
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('timeout', () => (s.destroy(), resolve(false)));
    s.once('error', () => resolve(false));
  });
}

function spawnInNs(ns: string, cmd: string, args: string[]): ChildProcess {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.on('exit', (code) => code && code !== 0 && process.stderr.write(`${cmd} in ${ns} exited ${code}: ${err}\n`));
  children.push(child);
  return child;
}

async function waitFor(what: string, ok: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`${what} did not come up`);
    await sleep(100);
  }
}

const systemctlCalls = (): string[] => (existsSync(file('systemctl.log')) ? readFileSync(file('systemctl.log'), 'utf8').split('\n').filter(Boolean) : []);

beforeAll(async () => {
  if (userInfo().uid !== 0) throw new Error('this test needs root (network namespaces and nftables)');
  if (!existsSync(SSHD)) throw new Error(`${SSHD} is missing: run scripts/setup.sh (it installs openssh-server)`);
  machineTablesBefore = (await tablesIn()).filter((t) => t.includes('gameday_fault'));

  for (const key of ['host_key', 'client_key']) await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `gameday-test-${key}`, '-f', file(key)]);
  writeFileSync(file('authorized_keys'), readFileSync(file('client_key.pub')), { mode: 0o600 });
  const hostKey = readFileSync(file('host_key.pub'), 'utf8');
  writeFileSync(file('known_hosts'), `[${ADDR.a}]:${PORT} ${hostKey}[${ADDR.b}]:${PORT} ${hostKey}`);
  // The fake systemctl: one line per call, the args space-joined.
  mkdirSync(file('bin'));
  writeFileSync(file('bin/systemctl'), `#!/bin/sh\necho "$*" >> ${file('systemctl.log')}\n`);
  chmodSync(file('bin/systemctl'), 0o755);
  // Made when missing and left in place, as the package's own: another sshd (a --power ssh lab beside this test) needs it too.
  if (!existsSync(PRIVSEP_DIR)) mkdirSync(PRIVSEP_DIR, { mode: 0o755 });

  // Two namespaces: each linked to this machine (for ssh) and to the other (the traffic a partition cuts).
  await ip('netns', 'add', NS.a);
  await ip('netns', 'add', NS.b);
  await ip('link', 'add', `gdf${tag}a`, 'type', 'veth', 'peer', 'name', 'up0', 'netns', NS.a);
  await ip('link', 'add', `gdf${tag}b`, 'type', 'veth', 'peer', 'name', 'up0', 'netns', NS.b);
  await ip('-n', NS.a, 'link', 'add', 'peer0', 'type', 'veth', 'peer', 'name', 'peer0', 'netns', NS.b);
  await ip('addr', 'add', '198.18.77.1/30', 'dev', `gdf${tag}a`);
  await ip('addr', 'add', '198.18.78.1/30', 'dev', `gdf${tag}b`);
  await ip('link', 'set', `gdf${tag}a`, 'up');
  await ip('link', 'set', `gdf${tag}b`, 'up');
  for (const [ns, up, addr] of [
    [NS.a, '198.18.77.2/30', `${ADDR.a}/30`],
    [NS.b, '198.18.78.2/30', `${ADDR.b}/30`],
  ] as const) {
    await ip('-n', ns, 'addr', 'add', up, 'dev', 'up0');
    await ip('-n', ns, 'addr', 'add', addr, 'dev', 'peer0');
    for (const dev of ['lo', 'up0', 'peer0']) await ip('-n', ns, 'link', 'set', dev, 'up');
  }
  await ip('route', 'add', `${ADDR.a}/32`, 'via', '198.18.77.2');
  await ip('route', 'add', `${ADDR.b}/32`, 'via', '198.18.78.2');

  for (const [key, ns] of Object.entries(NS) as Array<['a' | 'b', string]>) {
    const config = file(`sshd_config_${key}`);
    writeFileSync(
      config,
      [
        `Port ${PORT}`,
        `ListenAddress ${ADDR[key]}`,
        `HostKey ${file('host_key')}`,
        'PidFile none',
        `AuthorizedKeysFile ${file('authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        'StrictModes no',
        `SetEnv PATH=${file('bin')}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
        '',
      ].join('\n'),
    );
    spawnInNs(ns, SSHD, ['-D', '-e', '-f', config]);
    spawnInNs(ns, process.execPath, ['-e', `require('node:net').createServer((s) => s.end()).listen(${LISTEN}, '${ADDR[key]}')`]);
  }
  for (const key of ['a', 'b'] as const) {
    await waitFor(`sshd on ${ADDR[key]}`, () => reaches(ADDR[key], PORT));
    await waitFor(`listener on ${ADDR[key]}`, () => reaches(ADDR[key], LISTEN));
  }
}, 60_000);

afterAll(async () => {
  for (const ns of Object.values(NS)) {
    // Whatever a failed test left: the namespace goes, and its ruleset with it.
    await inNs(ns, 'nft', ['flush', 'ruleset'], { reject: false }).catch(() => undefined);
  }
  for (const c of children) {
    if (c.pid !== undefined && c.exitCode === null && c.signalCode === null) {
      const exited = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGTERM');
      await Promise.race([exited, sleep(5000)]);
    }
  }
  for (const ns of Object.values(NS)) await ip('netns', 'del', ns).catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
  // No table of ours was ever put in the machine's own ruleset.
  expect((await tablesIn()).filter((t) => t.includes('gameday_fault'))).toEqual(machineTablesBefore);
});

const fault = (f: Partial<ResolvedFault> & Pick<ResolvedFault, 'type' | 'hosts'>): ResolvedFault => ({ id: 'it', label: f.hosts.join(', '), atMs: 0, ...f });

describe('ssh fault driver on real sshd and nftables (in network namespaces)', () => {
  it('power-off: the host goes dark but keeps ssh from the controller, so the undo gets in; undo twice is fine', async () => {
    const d = sshFaultDriver(inventory, options({ units: { redis: '' } }));
    const f = fault({ id: 'it-power', type: 'power-off', hosts: ['a-1'] });
    expect(await reaches(ADDR.a, LISTEN)).toBe(true);
    try {
      expect(await d.inject(f)).toEqual({ table: 'gameday_fault_it_power', killed: { 'a-1': ['mariadb'] } });
      expect(await tablesIn(NS.a)).toEqual(['table inet gameday_fault_it_power']);
      expect(await tablesIn(NS.b)).toEqual([]);
      // Dark: a connect hangs (dropped, not refused), from here and from its peer.
      expect(await reaches(ADDR.a, LISTEN)).toBe(false);
      expect(await reaches(ADDR.a, LISTEN, NS.b)).toBe(false);
      expect(await reaches(ADDR.b, LISTEN, NS.a)).toBe(false);
      // The peer is untouched.
      expect(await reaches(ADDR.b, LISTEN)).toBe(true);
    } finally {
      await d.undo(f);
    }
    expect(await tablesIn(NS.a)).toEqual([]);
    expect(await reaches(ADDR.a, LISTEN)).toBe(true);
    await d.undo(f);
    // Frozen before the cut, killed after it; each undo lets a frozen unit go before it starts it.
    expect(systemctlCalls()).toEqual(['kill -s STOP -- mariadb', 'kill -s KILL -- mariadb', 'stop -- mariadb', 'kill -s CONT -- mariadb', 'start -- mariadb', 'kill -s CONT -- mariadb', 'start -- mariadb']);
  });

  it('partition: the two sides cannot reach each other, the controller still reaches both; the undo heals it', async () => {
    const d = sshFaultDriver(inventory, options());
    const f = fault({ id: 'it-split', type: 'partition', hosts: ['a-1', 'b-1'], sides: [['a-1'], ['b-1']] });
    expect(await reaches(ADDR.b, LISTEN, NS.a)).toBe(true);
    try {
      expect(await d.inject(f)).toEqual({ table: 'gameday_fault_it_split', between: [[ADDR.a], [ADDR.b]] });
      expect(await reaches(ADDR.b, LISTEN, NS.a)).toBe(false);
      expect(await reaches(ADDR.a, LISTEN, NS.b)).toBe(false);
      expect(await reaches(ADDR.a, LISTEN)).toBe(true);
      expect(await reaches(ADDR.b, LISTEN)).toBe(true);
      // Injected again (a retried step): the table is replaced, not doubled.
      await d.inject(f);
      expect(await tablesIn(NS.a)).toEqual(['table inet gameday_fault_it_split']);
    } finally {
      await d.undo(f);
    }
    expect(await tablesIn(NS.a)).toEqual([]);
    expect(await tablesIn(NS.b)).toEqual([]);
    expect(await reaches(ADDR.b, LISTEN, NS.a)).toBe(true);
    await d.undo(f);
  });

  it('redis-data-loss: the unit is killed and stopped, the files (even with hostile names) are deleted, then it starts', async () => {
    const data = file('redis data');
    mkdirSync(join(data, 'appendonlydir'), { recursive: true });
    writeFileSync(join(data, 'dump.rdb'), 'REDIS0011');
    writeFileSync(join(data, 'appendonlydir', 'appendonly.aof.1.base.rdb'), 'x');
    const canary = file('pwned');
    // The canary's path has slashes: the hostile name is a few folders deep.
    const hostile = join(data, `it's $(touch ${canary}) "; touch ${canary}; "`);
    mkdirSync(join(hostile, '..'), { recursive: true });
    writeFileSync(hostile, 'x');
    rmSync(file('systemctl.log'), { force: true });
    const d = sshFaultDriver(inventory, options({ redisDataPaths: [join(data, 'dump.rdb'), join(data, 'appendonlydir'), hostile] }));
    await d.inject(fault({ type: 'redis-data-loss', hosts: ['a-1'] }));
    expect(existsSync(join(data, 'dump.rdb'))).toBe(false);
    expect(existsSync(join(data, 'appendonlydir'))).toBe(false);
    expect(existsSync(hostile)).toBe(false);
    expect(existsSync(canary)).toBe(false);
    expect(existsSync(data)).toBe(true);
    expect(systemctlCalls()).toEqual(['kill -s KILL -- redis-server', 'stop -- redis-server', 'start -- redis-server']);
  });
});
