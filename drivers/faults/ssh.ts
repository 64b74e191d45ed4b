import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { z } from 'zod';
import { type Host, type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { log as rootLog } from '../../core/log.js';
import { execaSshRunner, sshArgv, sshDestination, sshPowerOptionsSchema, type SshResult, type SshRunner } from '../power/ssh.js';
import { assertSupported, faultTable, hostLookup, settleAll, valuesOrThrow, type CheckedFaultDriver } from './common.js';
import {
  dropTableCommand,
  isAddressOrNetwork,
  killUnitScript,
  partitionScript,
  powerOffScript,
  powerOnScript,
  redisWipeScript,
  startReplicationScript,
  startUnitScript,
  stopReplicationCommand,
  type Privilege,
} from './sshScripts.js';
import type { ResolvedFault } from './types.js';

/**
 * Faults on servers reached over ssh (the system `ssh`, with the same
 * options and safety as the ssh power driver: argv only, every remote word
 * quoted, destinations checked). The services are systemd units.
 *
 * - power-off: an nft table of gameday's own drops every packet in and out
 *   but the loopback and ssh with the controller, then SIGKILL of every
 *   unit of the host (then `systemctl stop`, so Restart= does not bring them
 *   back); undo: the table goes, the units start cold.
 * - kill-process: SIGKILL (and stop) of the service's unit; undo: start.
 * - stop-replication: `mariadb -e 'STOP SLAVE SQL_THREAD'` (or IO_THREAD);
 *   undo: START SLAVE, unless the server no longer replicates (promoted).
 * - partition: on every host of each side, a table dropping packets from and
 *   to the other side's addresses; undo: the tables go.
 * - redis-data-loss: every Redis killed and stopped, its files deleted, then
 *   all started again (only once every one is empty, so none resyncs from a
 *   full one); undo: the units are started (the data comes back only by the
 *   repair, from MariaDB).
 *
 * Every undo can run again, and after a half-done inject: deleting a table
 * that is not there, starting a running unit, START SLAVE on a running
 * thread all succeed.
 */

const log = rootLog.child({ driver: 'faults.ssh' });

/** A systemd unit name; never read as an option. */
const unitName = z
  .string()
  .regex(/^[A-Za-z0-9_.@:\\-]+$/, 'must be a systemd unit name, e.g. "mariadb" or "redis-server@6379.service"')
  .refine((u) => !u.startsWith('-'), 'cannot start with "-"');

/** An absolute path that rm -rf may take: no "..", not "/" or a top-level folder. */
const dataPath = z
  .string()
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path without NUL or newline')
  .refine((p) => !p.split('/').includes('..'), 'cannot contain ".."')
  .refine((p) => p.split('/').filter(Boolean).length >= 2, 'must be at least two levels deep (e.g. /var/lib/redis/dump.rdb)');

export const sshFaultOptionsSchema = z
  .object({
    /** How ssh connects: the ssh power driver's options (user, port, identityFile, hostKeyChecking, …). */
    ssh: sshPowerOptionsSchema.prefault({}),
    /** Prefix every privileged command with `sudo -n` (the ssh user is not root and may run nft, systemctl, mariadb and rm without a password). */
    sudo: z.boolean().default(false),
    /** Inventory service → systemd unit, over the defaults; "" says the service has no process of its own (power-off skips it). */
    units: z.record(z.string().min(1), z.union([unitName, z.literal('')])).default({}),
    /** The unit of the application behind `http` on hosts that are not load balancers. */
    appUnit: unitName.optional(),
    /** The unit of every service of a pool's proxy (a load balancer). */
    proxyUnit: unitName.default('haproxy'),
    /** What redis-data-loss deletes on each Redis host. */
    redisDataPaths: z.array(dataPath).min(1).default(['/var/lib/redis/dump.rdb', '/var/lib/redis/appendonlydir']),
    /** The MariaDB client as an argv (e.g. ["mysql", "--defaults-file=/root/.my.cnf"]). */
    mariadbCommand: z.array(z.string().min(1)).min(1).default(['mariadb']),
    /** The prefix of gameday's nft tables (one table per fault: <prefix>_<fault id>). */
    nftTablePrefix: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'lower-case letters, digits and "_", starting with a letter').default('gameday_fault'),
    /** Addresses or networks that may still ssh in to a powered-off host, besides the controller itself. */
    allowSshFrom: z.array(z.string().refine(isAddressOrNetwork, 'must be an IP address or network, e.g. 10.0.0.5 or 10.0.0.0/24')).default([]),
    /** Hosts handled at the same time. */
    maxParallel: z.number().int().min(1).max(256).default(32),
    /** Seconds an undo that starts units may take (MariaDB's crash recovery after a power loss can be slow). */
    startTimeoutSeconds: z.number().int().min(1).max(3600).default(900),
  })
  .strict();

export type SshFaultOptionsInput = z.input<typeof sshFaultOptionsSchema>;
export type SshFaultOptions = z.output<typeof sshFaultOptionsSchema>;

/** The units gameday knows without being told. */
export const DEFAULT_UNITS: Readonly<Record<string, string>> = {
  mysql: 'mariadb',
  redis: 'redis-server',
  sentinel: 'redis-sentinel',
  'mysql-write': 'haproxy',
  'mysql-read': 'haproxy',
  'haproxy-admin': 'haproxy',
};

export interface SshFaultDeps {
  run?: SshRunner;
  /** Resolves a DNS name to its addresses (for partitions); default: the controller's resolver. */
  resolveName?: (name: string) => Promise<string[]>;
}

const SUPPORTS = ['power-off', 'kill-process', 'stop-replication', 'partition', 'redis-data-loss'] as const;

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

/** Faults over ssh on the hosts of `inventory`. */
export function sshFaultDriver(inventory: Inventory, options: SshFaultOptionsInput = {}, deps: SshFaultDeps = {}): CheckedFaultDriver {
  const parsed = sshFaultOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new GamedayError('FAULT_OPTIONS', z.prettifyError(parsed.error), 'ssh fault options', 'see SshFaultOptions in drivers/faults/ssh.ts (GAMEDAY_SSH_* and GAMEDAY_FAULT_* variables)');
  }
  const o = parsed.data;
  const run = deps.run ?? execaSshRunner;
  const resolveName = deps.resolveName ?? (async (name: string) => (await lookup(name, { all: true })).map((a) => a.address));
  const privilege: Privilege = o.sudo ? ['sudo', '-n'] : [];
  const hostOf = hostLookup(inventory);
  const proxies = new Set(inventory.pools.flatMap((p) => p.proxies));

  /** The unit behind a service on a host: a unit, "" (no process of its own), or undefined (unknown). */
  function unitOf(host: Host, service: string): string | undefined {
    if (service in o.units) return o.units[service];
    if (proxies.has(host.name)) return o.proxyUnit;
    if (service === 'http') return o.appUnit;
    return DEFAULT_UNITS[service];
  }

  function noUnit(host: Host, services: string[]): GamedayError {
    return new GamedayError(
      'FAULT_NO_UNIT',
      `gameday does not know the systemd unit of ${services.map((s) => `"${s}"`).join(', ')} on ${host.name}`,
      `host ${host.name}: services`,
      services.includes('http')
        ? 'give the app\'s unit (appUnit, GAMEDAY_FAULT_APP_UNIT), or map services to units (units, GAMEDAY_FAULT_UNITS="service=unit,…"; "service=" for none)'
        : 'map services to units (units option, GAMEDAY_FAULT_UNITS="service=unit,…"); "service=" says it has no process of its own',
    );
  }

  /** Every unit of a host, for a power-off (a service mapped to "" is skipped). */
  function unitsOfHost(host: Host): string[] {
    const services = Object.keys(host.services);
    const unknown = services.filter((s) => unitOf(host, s) === undefined);
    if (unknown.length) throw noUnit(host, unknown);
    return [...new Set(services.map((s) => unitOf(host, s)!).filter((u) => u !== ''))];
  }

  function serviceUnit(host: Host, service: string): string {
    if (!(service in host.services)) {
      throw new GamedayError('FAULT_NO_SERVICE', `${host.name} runs no service "${service}" (it runs ${Object.keys(host.services).join(', ') || 'none'})`, `host ${host.name}: services`);
    }
    const unit = unitOf(host, service);
    if (unit === undefined) throw noUnit(host, [service]);
    if (unit === '') throw new GamedayError('FAULT_NO_UNIT', `"${service}" on ${host.name} is mapped to no unit of its own: there is no process to kill`, `host ${host.name}: services`, 'kill the service whose unit serves it, or map it to a unit');
    return unit;
  }

  function partitionAddress(host: Host): void {
    const a = host.address;
    if (a.includes('%') || a.startsWith('asg/')) {
      throw new GamedayError('FAULT_BAD_ADDRESS', `a partition needs the host's IP address or DNS name, not ${JSON.stringify(a)}`, `host ${host.name}: address`, 'give the address the other hosts reach it at');
    }
  }

  function hostsOf(f: ResolvedFault): Host[] {
    const names = f.type === 'partition' && f.sides ? [...f.sides[0], ...f.sides[1]] : f.hosts;
    return [...new Set(names)].map((n) => hostOf(n, f));
  }

  function checkOne(f: ResolvedFault): void {
    assertSupported(driver, f);
    const hosts = hostsOf(f);
    for (const h of hosts) sshDestination(h);
    switch (f.type) {
      case 'power-off':
        for (const h of hosts) unitsOfHost(h);
        break;
      case 'kill-process':
        if (!f.service) throw new GamedayError('FAULT_INVALID', 'a kill-process fault names no service', `fault ${f.id}`);
        for (const h of hosts) serviceUnit(h, f.service);
        break;
      case 'stop-replication':
        for (const h of hosts) if (!('mysql' in h.services)) throw new GamedayError('FAULT_NO_SERVICE', `${h.name} runs no MariaDB`, `host ${h.name}: services`);
        break;
      case 'partition':
        if (!f.sides) throw new GamedayError('FAULT_INVALID', 'a partition fault has no sides', `fault ${f.id}`);
        for (const h of hosts) partitionAddress(h);
        break;
      case 'redis-data-loss':
        for (const h of hosts) serviceUnit(h, 'redis');
        break;
    }
  }

  async function exec(host: Host, what: string, command: string, timeoutSeconds = o.ssh.commandTimeoutSeconds): Promise<SshResult> {
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
  }

  /** Runs `fn` on every host (at most maxParallel at a time); all are tried, then one error lists the failures. */
  async function onEach<R>(f: ResolvedFault, verb: string, hosts: Host[], fn: (h: Host) => Promise<R>): Promise<R[]> {
    const settled = await settleAll(hosts, o.maxParallel, fn);
    return valuesOrThrow(`${verb} ${f.type} ${f.label}`, hosts.map((h) => h.name), settled, `fault ${f.id}`);
  }

  async function addressesOf(hosts: Host[]): Promise<string[]> {
    const out: string[] = [];
    for (const h of hosts) {
      if (isIP(h.address)) {
        out.push(h.address);
        continue;
      }
      let found: string[];
      try {
        found = await resolveName(h.address);
      } catch (err) {
        throw new GamedayError('FAULT_BAD_ADDRESS', `cannot resolve ${h.address}: ${(err as Error).message}`, `host ${h.name}: address`, 'a partition matches IP addresses: give the host\'s IP address, or a name this machine resolves');
      }
      const ips = found.filter((a) => isIP(a) && !a.includes('%'));
      if (ips.length === 0) throw new GamedayError('FAULT_BAD_ADDRESS', `${h.address} resolves to no IP address`, `host ${h.name}: address`);
      out.push(...ips);
    }
    return [...new Set(out)];
  }

  const table = (f: ResolvedFault) => faultTable(o.nftTablePrefix, f.id);

  const driver: CheckedFaultDriver = {
    kind: 'ssh',
    supports: SUPPORTS,
    check(faults) {
      for (const f of faults) checkOne(f);
    },
    async inject(f) {
      checkOne(f);
      const hosts = hostsOf(f);
      log.info({ fault: f.id, type: f.type, hosts: hosts.map((h) => h.name) }, 'injecting over ssh');
      switch (f.type) {
        case 'power-off': {
          const t = table(f);
          const units = await onEach(f, 'inject', hosts, async (h) => {
            const u = unitsOfHost(h);
            await exec(h, 'power off', powerOffScript({ privilege, table: t, units: u, allowSshFrom: o.allowSshFrom }));
            return u;
          });
          return { table: t, killed: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
        }
        case 'kill-process': {
          const units = await onEach(f, 'inject', hosts, async (h) => {
            const u = serviceUnit(h, f.service!);
            await exec(h, `kill ${u}`, killUnitScript(privilege, u));
            return u;
          });
          return { killed: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
        }
        case 'stop-replication': {
          const thread = f.thread ?? 'sql';
          await onEach(f, 'inject', hosts, (h) => exec(h, `stop the ${thread} thread`, stopReplicationCommand(privilege, o.mariadbCommand, thread)));
          return { stopped: `${thread} thread`, hosts: hosts.map((h) => h.name) };
        }
        case 'partition': {
          const t = table(f);
          const [a, b] = f.sides!.map((side) => side.map((n) => hostOf(n, f)));
          const [addrA, addrB] = await Promise.all([addressesOf(a!), addressesOf(b!)]);
          const peersOf = new Map<string, string[]>([...a!.map((h) => [h.name, addrB!] as const), ...b!.map((h) => [h.name, addrA!] as const)]);
          await onEach(f, 'inject', hosts, (h) => exec(h, 'partition', partitionScript(privilege, t, peersOf.get(h.name)!)));
          return { table: t, between: [addrA, addrB] };
        }
        case 'redis-data-loss': {
          // Every Redis empty before any starts again: none can resync from one still full.
          await onEach(f, 'inject', hosts, (h) => exec(h, 'stop Redis and delete its files', redisWipeScript(privilege, serviceUnit(h, 'redis'), o.redisDataPaths)));
          await onEach(f, 'inject', hosts, (h) => exec(h, 'start Redis', startUnitScript(privilege, serviceUnit(h, 'redis')), o.startTimeoutSeconds));
          return { emptied: hosts.map((h) => h.name), deleted: o.redisDataPaths };
        }
      }
    },
    async undo(f) {
      assertSupported(driver, f);
      const hosts = hostsOf(f);
      log.info({ fault: f.id, type: f.type, hosts: hosts.map((h) => h.name) }, 'undoing over ssh');
      switch (f.type) {
        case 'power-off': {
          const t = table(f);
          await onEach(f, 'undo', hosts, async (h) => {
            // The table goes even when a unit is unknown now (options changed since the inject): the host comes back to the network first.
            const services = Object.keys(h.services);
            const unknown = services.filter((s) => unitOf(h, s) === undefined);
            const units = [...new Set(services.map((s) => unitOf(h, s)).filter((u): u is string => u !== undefined && u !== ''))];
            await exec(h, 'power on', powerOnScript({ privilege, table: t, units }), o.startTimeoutSeconds);
            if (unknown.length) throw noUnit(h, unknown);
          });
          return { table: t, started: hosts.map((h) => h.name) };
        }
        case 'kill-process': {
          const units = await onEach(f, 'undo', hosts, async (h) => {
            const u = serviceUnit(h, f.service!);
            await exec(h, `start ${u}`, startUnitScript(privilege, u), o.startTimeoutSeconds);
            return u;
          });
          return { started: Object.fromEntries(hosts.map((h, i) => [h.name, units[i]])) };
        }
        case 'stop-replication': {
          const thread = f.thread ?? 'sql';
          const out = await onEach(f, 'undo', hosts, (h) => exec(h, `start the ${thread} thread`, startReplicationScript(privilege, o.mariadbCommand, thread)));
          return { thread, hosts: Object.fromEntries(hosts.map((h, i) => [h.name, out[i]!.stdout.trim() === 'started' ? 'started' : 'not a replica any more: left as it is'])) };
        }
        case 'partition': {
          const t = table(f);
          await onEach(f, 'undo', hosts, (h) => exec(h, 'heal the partition', dropTableCommand(privilege, t)));
          return { table: t, healed: true };
        }
        case 'redis-data-loss':
          // Started in case the inject stopped half-way; the data comes back only by the repair.
          await onEach(f, 'undo', hosts, (h) => exec(h, 'start Redis', startUnitScript(privilege, serviceUnit(h, 'redis')), o.startTimeoutSeconds));
          return { note: 'Redis data is rebuilt from MariaDB by the repair, not by an undo' };
      }
    },
  };
  return driver;
}
