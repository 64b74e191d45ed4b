import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { parseInventory, type Inventory } from '../../../topology/index.js';
import { GamedayError } from '../../../core/errors.js';
import type { SshResult, SshRunner } from '../../../drivers/power/ssh.js';
import type { ResolvedFault } from '../../../drivers/faults/types.js';
import { sshFaultDriver, type SshFaultOptionsInput } from '../../../drivers/faults/ssh.js';
import { partitionNftScript } from '../../../drivers/faults/sshScripts.js';

/**
 * The ssh fault driver with ssh replaced: either a recorder of argv (for the
 * exact command strings), or a "local ssh" that runs the remote command in a
 * real /bin/sh with fake nft, systemctl, mariadb, sudo and rm on its PATH,
 * each of which logs the argv (and stdin) it got. So the tests see exactly
 * what the remote tools would receive, quoting included.
 */

const inventory: Inventory = parseInventory(
  {
    name: 'dc',
    tiers: { db: {}, 'db-proxy': {}, web: {}, redis: {} },
    hosts: [
      { name: 'db-1', tier: 'db', role: 'primary', zone: 'dc-a', rack: 'a1', address: '10.0.1.11', services: { mysql: 3306, 'db-health': 9200 } },
      { name: 'db-2', tier: 'db', role: 'replica', zone: 'dc-b', rack: 'b1', address: '2001:db8::12', services: { mysql: 3306 } },
      { name: 'proxy-1', tier: 'db-proxy', zone: 'dc-a', rack: 'a2', address: '10.0.1.21', services: { 'mysql-write': 3307, 'mysql-read': 3308, http: 80, 'haproxy-admin': 9999 } },
      { name: 'web-1', tier: 'web', zone: 'dc-b', rack: 'b2', address: 'web-1.dc.example.net', services: { http: 8080 } },
      { name: 'redis-1', tier: 'redis', role: 'primary', zone: 'dc-a', rack: 'a3', address: '10.0.1.31', services: { redis: 6379, sentinel: 26379 } },
      { name: 'redis-2', tier: 'redis', role: 'replica', zone: 'dc-b', rack: 'b3', address: '10.0.2.31', services: { redis: 6379 } },
    ],
    pools: [{ name: 'db-read', proxies: ['proxy-1'], servers: ['db-1', 'db-2'] }],
  },
  'test inventory',
);

const fault = (f: Partial<ResolvedFault> & Pick<ResolvedFault, 'type' | 'hosts'>): ResolvedFault => ({ id: 'f-1', label: f.hosts.join(', '), atMs: 0, ...f });

/** Records every ssh argv; answers from a script (the last answer repeats). */
function recorder(...answers: Array<Partial<SshResult>>) {
  const calls: string[][] = [];
  let i = 0;
  const run: SshRunner = async (file, args) => {
    calls.push([file, ...args]);
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...answers[Math.min(i++, answers.length - 1)] };
  };
  return { run, calls, commands: () => calls.map((c) => c.at(-1)!), destinations: () => calls.map((c) => c.at(-2)!) };
}

const scratch = mkdtempSync(join(tmpdir(), 'gameday-fault-ssh-unit-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
const bin = join(scratch, 'bin');
const logFile = join(scratch, 'calls.log');
const canary = join(scratch, 'pwned');

// Every fake tool appends one record, in one write (hosts run in parallel): the host, its name, its args
// (US-separated), and for nft its stdin; records end with RS.
const FAKE = `#!/bin/sh
name=$(basename "$0")
rec=$(printf '%s\\037%s' "$FAKE_HOST" "$name"; for a in "$@"; do printf '\\037%s' "$a"; done; printf x)
rec=\${rec%x}
if [ "$name" = nft ]; then s=$(cat; printf x); rec="$rec$(printf '\\037')stdin=\${s%x}"; fi
printf '%s\\036' "$rec" >> "$FAKE_LOG"
case "$name" in
  systemctl) case " $* " in *" $FAKE_FAIL_UNIT "*) echo "Failed to stop $FAKE_FAIL_UNIT.service: Unit $FAKE_FAIL_UNIT.service not loaded." >&2; exit 5;; esac ;;
  nft) [ -n "$FAKE_FAIL_NFT" ] && { echo "nft: Operation not permitted" >&2; exit 1; } ;;
  mariadb) case "$*" in *'SHOW SLAVE STATUS'*) [ -n "$FAKE_REPLICA" ] && printf 'db-1\\t3306\\tYes\\n';; esac ;;
  sudo) [ "$1" = -n ] && shift; exec "$@" ;;
esac
exit 0
`;
beforeEach(() => {
  rmSync(bin, { recursive: true, force: true });
  rmSync(logFile, { force: true });
  mkdirSync(bin, { recursive: true });
  for (const tool of ['nft', 'systemctl', 'mariadb', 'sudo', 'rm']) {
    writeFileSync(join(bin, tool), FAKE);
    chmodSync(join(bin, tool), 0o755);
  }
});

/** The records the fake tools wrote, as [host, tool, ...args] (nft's last field is "stdin=…"). */
function records(): string[][] {
  if (!existsSync(logFile)) return [];
  return readFileSync(logFile, 'utf8')
    .split('\x1e')
    .slice(0, -1)
    .map((r) => r.split('\x1f'));
}
/** [tool, ...args] of every call, in order (of one host when given). */
const toolCalls = (host?: string): string[][] => records().filter((r) => host === undefined || r[0] === host).map((r) => r.slice(1));

/** A "local ssh": runs the remote command in /bin/sh, as sshd would, with SSH_CONNECTION set and the fakes first on PATH. */
function localSsh(env: Record<string, string> = {}) {
  const seen: string[][] = [];
  const run: SshRunner = async (file, args) => {
    seen.push([file, ...args]);
    const r = await execa('/bin/sh', ['-c', args.at(-1)!], {
      reject: false,
      env: { PATH: `${bin}:/usr/bin:/bin`, FAKE_LOG: logFile, FAKE_HOST: args.at(-2)!, SSH_CONNECTION: '10.0.0.9 51234 10.0.1.11 22', ...env },
      extendEnv: false,
    });
    return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr), timedOut: false };
  };
  return { run, seen };
}

const driver = (options: SshFaultOptionsInput = {}, run: SshRunner = recorder().run, resolveName = async (n: string) => (n === 'web-1.dc.example.net' ? ['10.0.2.41', '10.0.2.41'] : [])) =>
  sshFaultDriver(inventory, options, { run, resolveName });

async function caught(p: Promise<unknown> | (() => unknown)): Promise<GamedayError> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(GamedayError);
  return err as GamedayError;
}

describe('ssh fault driver: options', () => {
  it('supports every fault type', () => {
    expect(driver().supports).toEqual(['power-off', 'kill-process', 'stop-replication', 'partition', 'redis-data-loss']);
    expect(driver().kind).toBe('ssh');
  });

  it('refuses bad options with a GamedayError, before anything runs', async () => {
    for (const bad of [
      { units: { mysql: '-x' } },
      { units: { mysql: 'maria db' } },
      { appUnit: '$(id)' },
      { redisDataPaths: ['relative/dump.rdb'] },
      { redisDataPaths: ['/'] },
      { redisDataPaths: ['/var'] },
      { redisDataPaths: ['/var/lib/../../etc'] },
      { redisDataPaths: [] },
      { nftTablePrefix: 'Gameday' },
      { nftTablePrefix: 'x; flush ruleset' },
      { allowSshFrom: ['10.0.0.0/33'] },
      { allowSshFrom: ['bastion.example.net'] },
      { mariadbCommand: [] },
      { ssh: { user: '-oProxyCommand=x' } },
      { nope: true },
    ]) {
      const e = await caught(() => driver(bad as SshFaultOptionsInput));
      expect(e.code, JSON.stringify(bad)).toBe('FAULT_OPTIONS');
    }
  });
});

describe('ssh fault driver: the exact remote commands', () => {
  it('kill-process: SIGKILL of the unit, then stop (so Restart= waits for the undo); undo starts it', async () => {
    const ssh = recorder();
    const d = driver({ ssh: { user: 'ops', port: 2222 } }, ssh.run);
    const f = fault({ type: 'kill-process', hosts: ['db-1'], service: 'mysql' });
    expect(await d.inject(f)).toEqual({ killed: { 'db-1': 'mariadb' } });
    await d.undo(f);
    expect(ssh.calls[0]!.slice(0, 2)).toEqual(['ssh', '-T']);
    expect(ssh.calls[0]!.join(' ')).toContain('-p 2222 -l ops -- 10.0.1.11');
    expect(ssh.commands()).toEqual([
      `rc=0; for u in 'mariadb'; do systemctl kill -s KILL -- "$u"; systemctl stop -- "$u" || rc=5; done\nexit $rc`,
      `rc=0; for u in 'mariadb'; do systemctl start -- "$u" || rc=5; done\nexit $rc`,
    ]);
  });

  it('with sudo every privileged command is prefixed with a quoted sudo -n', async () => {
    const ssh = recorder();
    await driver({ sudo: true }, ssh.run).inject(fault({ type: 'kill-process', hosts: ['redis-1'], service: 'sentinel' }));
    expect(ssh.commands()).toEqual([`rc=0; for u in 'redis-sentinel'; do 'sudo' '-n' systemctl kill -s KILL -- "$u"; 'sudo' '-n' systemctl stop -- "$u" || rc=5; done\nexit $rc`]);
  });

  it('stop-replication: mariadb -e STOP SLAVE, each word quoted; the io thread too', async () => {
    const ssh = recorder();
    const d = driver({ mariadbCommand: ['mysql', '--defaults-file=/root/my admin.cnf'] }, ssh.run);
    await d.inject(fault({ type: 'stop-replication', hosts: ['db-2'], thread: 'sql' }));
    await d.inject(fault({ type: 'stop-replication', hosts: ['db-2'], thread: 'io' }));
    expect(ssh.commands()).toEqual([`'mysql' '--defaults-file=/root/my admin.cnf' '-e' 'STOP SLAVE SQL_THREAD'`, `'mysql' '--defaults-file=/root/my admin.cnf' '-e' 'STOP SLAVE IO_THREAD'`]);
    expect(ssh.destinations()).toEqual(['2001:db8::12', '2001:db8::12']);
  });

  it('stop-replication undo: START SLAVE only where the server still replicates', async () => {
    const ssh = recorder({ stdout: 'started\n' }, { stdout: 'not a replica\n' });
    const d = driver({}, ssh.run);
    const f = fault({ type: 'stop-replication', hosts: ['db-2'], thread: 'sql' });
    expect(await d.undo(f)).toEqual({ thread: 'sql', hosts: { 'db-2': 'started' } });
    expect(await d.undo(f)).toEqual({ thread: 'sql', hosts: { 'db-2': 'not a replica any more: left as it is' } });
    expect(ssh.commands()[0]).toBe(
      `s=$('mariadb' -N -B -e 'SHOW SLAVE STATUS') || exit 6\nif [ -n "$s" ]; then 'mariadb' -e 'START SLAVE SQL_THREAD' || exit 6; echo started; else echo 'not a replica'; fi`,
    );
  });

  it('partition undo and power-off undo delete the table with "add, then delete" (nothing there is fine)', async () => {
    const ssh = recorder();
    const d = driver({}, ssh.run);
    await d.undo(fault({ id: 'split', type: 'partition', hosts: ['db-1', 'db-2'], sides: [['db-1'], ['db-2']] }));
    expect(ssh.commands()).toEqual([
      `printf '%s' 'table inet gameday_fault_split {}\ndelete table inet gameday_fault_split\n' | nft -f -`,
      `printf '%s' 'table inet gameday_fault_split {}\ndelete table inet gameday_fault_split\n' | nft -f -`,
    ]);
  });

  it('refuses a host address ssh could misread, and an unknown host, before running anything', async () => {
    const ssh = recorder();
    const hostile = { ...inventory, hosts: [{ ...inventory.hosts[0]!, address: '-oProxyCommand=touch /tmp/x' }] };
    await expect(sshFaultDriver(hostile, {}, { run: ssh.run }).inject(fault({ type: 'kill-process', hosts: ['db-1'], service: 'mysql' }))).rejects.toMatchObject({ code: 'POWER_SSH_BAD_ADDRESS' });
    expect((await caught(driver({}, ssh.run).inject(fault({ type: 'power-off', hosts: ['db-9'] })))).code).toBe('FAULT_UNKNOWN_HOST');
    expect(ssh.calls).toEqual([]);
  });
});

describe('ssh fault driver: power-off', () => {
  const expectedTable = (family: 'ip' | 'ip6', controller: string, extraIn: string[] = [], extraOut: string[] = []) =>
    [
      'table inet gameday_fault_f_1 {}',
      'delete table inet gameday_fault_f_1',
      'table inet gameday_fault_f_1 {',
      '  chain input {',
      '    type filter hook input priority -150; policy accept;',
      '    iif "lo" accept',
      `    ${family} saddr ${controller} tcp dport 22 accept`,
      ...extraIn,
      '    drop',
      '  }',
      '  chain output {',
      '    type filter hook output priority -150; policy accept;',
      '    oif "lo" accept',
      `    ${family} daddr ${controller} tcp sport 22 accept`,
      ...extraOut,
      '    drop',
      '  }',
      '  chain forward {',
      '    type filter hook forward priority -150; policy drop;',
      '  }',
      '}',
      '',
    ].join('\n');

  it('freezes every unit of the host, drops everything but ssh with the controller, then kills each unit once', async () => {
    const ssh = localSsh();
    const d = driver({}, ssh.run);
    const f = fault({ type: 'power-off', hosts: ['proxy-1'] });
    expect(await d.inject(f)).toEqual({ table: 'gameday_fault_f_1', killed: { 'proxy-1': ['haproxy'] } });
    expect(toolCalls()).toEqual([
      // Frozen before the cut: nothing the host had in hand (a commit) completes once it is cut off.
      ['systemctl', 'kill', '-s', 'STOP', '--', 'haproxy'],
      ['nft', '-f', '-', `stdin=${expectedTable('ip', '10.0.0.9')}`],
      ['systemctl', 'kill', '-s', 'KILL', '--', 'haproxy'],
      ['systemctl', 'stop', '--', 'haproxy'],
    ]);
    expect(ssh.seen[0]!.at(-2)).toBe('10.0.1.21');
  });

  it('keeps an IPv6 controller (and an IPv4-mapped one as IPv4), and the allowSshFrom networks', async () => {
    await driver({}, localSsh({ SSH_CONNECTION: '2001:db8::9 51234 2001:db8::12 2222' }).run).inject(fault({ type: 'power-off', hosts: ['db-2'] }));
    expect(toolCalls()[1]![3]).toBe(`stdin=${expectedTable('ip6', '2001:db8::9').replaceAll('dport 22', 'dport 2222').replaceAll('sport 22', 'sport 2222')}`);
    rmSync(logFile);
    await driver({ allowSshFrom: ['10.9.0.0/16', '10.8.0.1', 'fd00::/8'] }, localSsh({ SSH_CONNECTION: '::ffff:10.0.0.9 51234 ::ffff:10.0.2.12 22' }).run).inject(fault({ type: 'power-off', hosts: ['db-2'] }));
    expect(toolCalls()[1]![3]).toBe(
      `stdin=${expectedTable(
        'ip',
        '10.0.0.9',
        ['    ip saddr { 10.9.0.0/16, 10.8.0.1 } tcp dport 22 accept', '    ip6 saddr { fd00::/8 } tcp dport 22 accept'],
        ['    ip daddr { 10.9.0.0/16, 10.8.0.1 } tcp sport 22 accept', '    ip6 daddr { fd00::/8 } tcp sport 22 accept'],
      )}`,
    );
  });

  it('refuses to go on when it cannot tell the controller from SSH_CONNECTION (nothing is blocked)', async () => {
    for (const conn of ['', '$(id) 1 2 22', '10.0.0.9 1 2 22;reboot']) {
      rmSync(logFile, { force: true });
      const e = await caught(driver({}, localSsh({ SSH_CONNECTION: conn }).run).inject(fault({ type: 'power-off', hosts: ['db-2'] })));
      expect(e.code).toBe('FAULT_SSH_COMMAND');
      expect(e.message).toContain('exit code 3');
      expect(e.hint).toContain('SSH_CONNECTION');
      expect(toolCalls()).toEqual([]);
    }
  });

  it('a service with no unit of its own is skipped only when mapped to ""; an unknown one is refused naming the host', async () => {
    const e = await caught(driver().inject(fault({ type: 'power-off', hosts: ['db-1'] })));
    expect(e.code).toBe('FAULT_NO_UNIT');
    expect(e.message).toContain('"db-health" on db-1');
    expect(e.input).toBe('host db-1: services');
    const web = await caught(() => driver().check([fault({ type: 'power-off', hosts: ['web-1'] })]));
    expect(web.hint).toContain('appUnit');

    await driver({ units: { 'db-health': '' } }, localSsh().run).inject(fault({ type: 'power-off', hosts: ['db-1'] }));
    expect(toolCalls().slice(2)).toEqual([
      ['systemctl', 'kill', '-s', 'KILL', '--', 'mariadb'],
      ['systemctl', 'stop', '--', 'mariadb'],
    ]);
  });

  it('the app unit and units override the defaults; every host of a rack at once', async () => {
    const d = driver({ appUnit: 'notification-center', units: { redis: 'redis-server@main', 'db-health': 'db-health-agent' } }, localSsh().run);
    const r = await d.inject(fault({ type: 'power-off', hosts: ['web-1', 'redis-1', 'db-1'] }));
    expect(r).toEqual({ table: 'gameday_fault_f_1', killed: { 'web-1': ['notification-center'], 'redis-1': ['redis-server@main', 'redis-sentinel'], 'db-1': ['mariadb', 'db-health-agent'] } });
    expect(toolCalls().filter((c) => c[1] === 'stop').map((c) => c[3]).sort()).toEqual(['db-health-agent', 'mariadb', 'notification-center', 'redis-sentinel', 'redis-server@main']);
  });

  it('a cut that fails thaws the frozen units and fails the fault (exit 4): the host is left as it was', async () => {
    const e = await caught(driver({}, localSsh({ FAKE_FAIL_NFT: '1' }).run).inject(fault({ type: 'power-off', hosts: ['db-2'] })));
    expect(e.code).toBe('FAULT_SSH_COMMAND');
    expect(e.message).toContain('exit code 4');
    expect(toolCalls().map((c) => (c[0] === 'nft' ? 'nft' : c.join(' ')))).toEqual(['systemctl kill -s STOP -- mariadb', 'nft', 'systemctl kill -s CONT -- mariadb']);
  });

  it('undo: the table goes, the units start cold; it can run again', async () => {
    const d = driver({}, localSsh().run);
    const f = fault({ type: 'power-off', hosts: ['db-2'] });
    await d.undo(f);
    await d.undo(f);
    const once = [
      ['nft', '-f', '-', 'stdin=table inet gameday_fault_f_1 {}\ndelete table inet gameday_fault_f_1\n'],
      // A unit an inject cut short after its freeze would ignore the start: let go first.
      ['systemctl', 'kill', '-s', 'CONT', '--', 'mariadb'],
      ['systemctl', 'start', '--', 'mariadb'],
    ];
    expect(toolCalls()).toEqual([...once, ...once]);
  });

  it('undo lifts the table even when a unit is unknown now, then says which', async () => {
    const e = await caught(driver({}, localSsh().run).undo(fault({ type: 'power-off', hosts: ['db-1'] })));
    expect(e.code).toBe('FAULT_NO_UNIT');
    expect(toolCalls()).toEqual([
      ['nft', '-f', '-', 'stdin=table inet gameday_fault_f_1 {}\ndelete table inet gameday_fault_f_1\n'],
      ['systemctl', 'kill', '-s', 'CONT', '--', 'mariadb'],
      ['systemctl', 'start', '--', 'mariadb'],
    ]);
  });

  it('a unit that does not exist fails the fault with systemctl\'s message and a hint', async () => {
    const e = await caught(driver({}, localSsh({ FAKE_FAIL_UNIT: 'mariadb' }).run).inject(fault({ type: 'power-off', hosts: ['db-2'] })));
    expect(e.code).toBe('FAULT_SSH_COMMAND');
    expect(e.message).toContain('db-2 failed with exit code 5: Failed to stop mariadb.service');
    expect(e.hint).toContain('unit names');
  });

  it('says which hosts failed when several did, after trying every one', async () => {
    const ssh = recorder({ exitCode: 255, stderr: 'ssh: connect to host 10.0.1.11 port 22: Connection refused' }, {}, { exitCode: 255, stderr: 'Permission denied (publickey).' });
    const e = await caught(driver({ appUnit: 'app', units: { 'db-health': '' } }, ssh.run, async () => ['10.0.2.41']).inject(fault({ type: 'power-off', label: 'zone x', hosts: ['db-1', 'db-2', 'web-1'] })));
    expect(ssh.calls).toHaveLength(3);
    expect(e.code).toBe('FAULT_FAILED');
    expect(e.message).toMatch(/^inject power-off zone x failed on 2 of 3: db-1: cannot power off over ssh at 10\.0\.1\.11: .*Connection refused; web-1: .*Permission denied/);
    const one = await caught(driver({}, recorder({ exitCode: 255, stderr: 'Connection timed out' }).run).inject(fault({ type: 'kill-process', hosts: ['db-2'], service: 'mysql' })));
    expect(one.code).toBe('FAULT_SSH_UNREACHABLE');
    expect(one.hint).toContain('nft delete table');
  });
});

describe('ssh fault driver: partition', () => {
  it('each side drops packets from and to the other side\'s addresses (DNS names resolved here, IPv6 in its own set)', async () => {
    const ssh = localSsh();
    const d = driver({}, ssh.run);
    const f = fault({ id: 'split-a-b', type: 'partition', hosts: ['db-1', 'proxy-1', 'db-2', 'web-1'], sides: [['db-1', 'proxy-1'], ['db-2', 'web-1']] });
    expect(await d.inject(f)).toEqual({ table: 'gameday_fault_split_a_b', between: [['10.0.1.11', '10.0.1.21'], ['2001:db8::12', '10.0.2.41']] });
    const stdinOf = (address: string) => toolCalls(address)[0]![3];
    expect(stdinOf('10.0.1.11')).toBe(`stdin=${partitionNftScript('gameday_fault_split_a_b', ['2001:db8::12', '10.0.2.41'])}`);
    expect(stdinOf('2001:db8::12')).toBe(`stdin=${partitionNftScript('gameday_fault_split_a_b', ['10.0.1.11', '10.0.1.21'])}`);
    expect(partitionNftScript('gameday_fault_split_a_b', ['2001:db8::12', '10.0.2.41', '10.0.2.41'])).toBe(
      [
        'table inet gameday_fault_split_a_b {}',
        'delete table inet gameday_fault_split_a_b',
        'table inet gameday_fault_split_a_b {',
        '  set peers4 { type ipv4_addr; elements = { 10.0.2.41 } }',
        '  set peers6 { type ipv6_addr; elements = { 2001:db8::12 } }',
        '  chain input {',
        '    type filter hook input priority -150; policy accept;',
        '    ip saddr @peers4 drop',
        '    ip6 saddr @peers6 drop',
        '  }',
        '  chain output {',
        '    type filter hook output priority -150; policy accept;',
        '    ip daddr @peers4 drop',
        '    ip6 daddr @peers6 drop',
        '  }',
        '}',
        '',
      ].join('\n'),
    );
    expect(toolCalls()).toHaveLength(4);
    expect(() => partitionNftScript('t', ['10.0.0.1; flush ruleset'])).toThrow(/not an IP/);
  });

  it('a name that does not resolve is refused before any rule goes in', async () => {
    const ssh = recorder();
    const e = await caught(driver({}, ssh.run, async () => []).inject(fault({ type: 'partition', hosts: ['db-1', 'web-1'], sides: [['db-1'], ['web-1']] })));
    expect(e.code).toBe('FAULT_BAD_ADDRESS');
    expect(e.input).toBe('host web-1: address');
    expect(ssh.calls).toEqual([]);
  });
});

describe('ssh fault driver: redis-data-loss', () => {
  it('kills and stops every Redis and deletes its files before starting any again; every path is passed literally', async () => {
    const paths = ['/var/lib/redis/dump.rdb', `/var/lib/redis/$(touch ${canary})`, "/var/lib/redis/it's here", '/var/lib/redis/a b;c'];
    const d = driver({ redisDataPaths: paths }, localSsh().run);
    expect(await d.inject(fault({ type: 'redis-data-loss', hosts: ['redis-1', 'redis-2'] }))).toEqual({ emptied: ['redis-1', 'redis-2'], deleted: paths });
    for (const host of ['10.0.1.31', '10.0.2.31']) {
      expect(toolCalls(host)).toEqual([
        ['systemctl', 'kill', '-s', 'KILL', '--', 'redis-server'],
        ['systemctl', 'stop', '--', 'redis-server'],
        ['rm', '-rf', '--', ...paths],
        ['systemctl', 'start', '--', 'redis-server'],
      ]);
    }
    const calls = toolCalls().map((c) => c.slice(0, 2).join(' '));
    expect(calls.lastIndexOf('rm -rf')).toBeLessThan(calls.indexOf('systemctl start'));
    expect(existsSync(canary)).toBe(false);
  });

  it('undo starts every Redis (an inject stopped half-way) and says the data comes back by the repair', async () => {
    const d = driver({ sudo: true }, localSsh().run);
    expect(await d.undo(fault({ type: 'redis-data-loss', hosts: ['redis-1', 'redis-2'] }))).toMatchObject({ note: expect.stringContaining('repair') });
    for (const host of ['10.0.1.31', '10.0.2.31']) {
      expect(toolCalls(host)).toEqual([
        ['sudo', '-n', 'systemctl', 'start', '--', 'redis-server'],
        ['systemctl', 'start', '--', 'redis-server'],
      ]);
    }
  });
});

describe('ssh fault driver: hostile words reach the remote tools unchanged', () => {
  it('mariadb argv words with quotes, $() and newlines are passed literally, running none of them', async () => {
    const words = [`--defaults-file=/etc/$(touch ${canary})`, `--user=it's`, `--host=a\nb`, '`id`', '"; touch x; "'];
    const d = driver({ mariadbCommand: ['mariadb', ...words] }, localSsh({ FAKE_REPLICA: '1' }).run);
    const f = fault({ type: 'stop-replication', hosts: ['db-2'], thread: 'io' });
    await d.inject(f);
    expect(await d.undo(f)).toEqual({ thread: 'io', hosts: { 'db-2': 'started' } });
    expect(toolCalls()).toEqual([
      ['mariadb', ...words, '-e', 'STOP SLAVE IO_THREAD'],
      ['mariadb', ...words, '-N', '-B', '-e', 'SHOW SLAVE STATUS'],
      ['mariadb', ...words, '-e', 'START SLAVE IO_THREAD'],
    ]);
    expect(existsSync(canary)).toBe(false);
  });
});
