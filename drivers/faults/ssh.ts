import { lookup } from 'node:dns/promises';
import { z } from 'zod';
import { type Inventory } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { execaSshRunner, sshDestination, type SshRunner } from '../power/ssh.js';
import { assertSupported, faultTable, hostLookup, settleAll, valuesOrThrow, type CheckedFaultDriver } from './common.js';
import { log, type SshFaultContext, type SshFaultType } from './ssh/context.js';
import { sshExec } from './ssh/exec.js';
import { killProcess } from './ssh/killProcess.js';
import { sshFaultOptionsSchema, type SshFaultOptions, type SshFaultOptionsInput } from './ssh/options.js';
import { partition } from './ssh/partition.js';
import { powerOff } from './ssh/powerOff.js';
import { redisDataLoss } from './ssh/redisDataLoss.js';
import { stopReplication } from './ssh/stopReplication.js';
import { unitsFor } from './ssh/units.js';
import type { ResolvedFault } from './types.js';

// The options stay importable from here, the driver's public module (env.ts, the tests).
export { DEFAULT_UNITS, sshFaultOptionsSchema, type SshFaultOptions, type SshFaultOptionsInput } from './ssh/options.js';

/**
 * Faults on servers reached over ssh (the system `ssh`, with the same
 * options and safety as the ssh power driver: argv only, every remote word
 * quoted, destinations checked). The services are systemd units.
 *
 * Each fault type is one object under ssh/ with its check, inject and undo
 * side by side, registered in FAULT_TYPES below. Every undo can run again,
 * and after a half-done inject: deleting a table that is not there,
 * starting a running unit, START SLAVE on a running thread all succeed.
 */

/** The fault types this driver injects, in the order its `supports` lists them. */
const FAULT_TYPES: { readonly [T in ResolvedFault['type']]?: SshFaultType } = {
  'power-off': powerOff,
  'kill-process': killProcess,
  'stop-replication': stopReplication,
  partition,
  'redis-data-loss': redisDataLoss,
};

export interface SshFaultDeps {
  run?: SshRunner;
  /** Resolves a DNS name to its addresses (for partitions); default: the controller's resolver. */
  resolveName?: (name: string) => Promise<string[]>;
}

function parseOptions(options: SshFaultOptionsInput): SshFaultOptions {
  const parsed = sshFaultOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new GamedayError('FAULT_OPTIONS', z.prettifyError(parsed.error), 'ssh fault options', 'see SshFaultOptions in drivers/faults/ssh.ts (GAMEDAY_SSH_* and GAMEDAY_FAULT_* variables)');
  }
  return parsed.data;
}

function sshFaultContext(inventory: Inventory, o: SshFaultOptions, deps: SshFaultDeps): SshFaultContext {
  return {
    options: o,
    privilege: o.sudo ? ['sudo', '-n'] : [],
    units: unitsFor(inventory, o),
    hostOf: hostLookup(inventory),
    exec: sshExec(o, deps.run ?? execaSshRunner),
    async onEach(f, verb, hosts, fn) {
      const settled = await settleAll(hosts, o.maxParallel, fn);
      return valuesOrThrow(`${verb} ${f.type} ${f.label}`, hosts.map((h) => h.name), settled, `fault ${f.id}`);
    },
    resolveName: deps.resolveName ?? (async (name: string) => (await lookup(name, { all: true })).map((a) => a.address)),
    table: (f) => faultTable(o.nftTablePrefix, f.id),
  };
}

/** Faults over ssh on the hosts of `inventory`. */
export function sshFaultDriver(inventory: Inventory, options: SshFaultOptionsInput = {}, deps: SshFaultDeps = {}): CheckedFaultDriver {
  const ctx = sshFaultContext(inventory, parseOptions(options), deps);

  /** The fault's type, once assertSupported has let it through. */
  const typeOf = (f: ResolvedFault): SshFaultType => FAULT_TYPES[f.type]!;
  const hostsOf = (f: ResolvedFault) => [...new Set(typeOf(f).hostNames?.(f) ?? f.hosts)].map((n) => ctx.hostOf(n, f));

  function checkOne(f: ResolvedFault): void {
    assertSupported(driver, f);
    const hosts = hostsOf(f);
    for (const h of hosts) sshDestination(h);
    typeOf(f).check(ctx, f, hosts);
  }

  const driver: CheckedFaultDriver = {
    kind: 'ssh',
    supports: Object.keys(FAULT_TYPES) as Array<ResolvedFault['type']>,
    check(faults) {
      for (const f of faults) checkOne(f);
    },
    async inject(f) {
      checkOne(f);
      const hosts = hostsOf(f);
      log.info({ fault: f.id, type: f.type, hosts: hosts.map((h) => h.name) }, 'injecting over ssh');
      return typeOf(f).inject(ctx, f, hosts);
    },
    async undo(f) {
      assertSupported(driver, f);
      const hosts = hostsOf(f);
      log.info({ fault: f.id, type: f.type, hosts: hosts.map((h) => h.name) }, 'undoing over ssh');
      return typeOf(f).undo(ctx, f, hosts);
    },
  };
  return driver;
}
