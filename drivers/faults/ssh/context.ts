import type { Host } from '../../../topology/index.js';
import { log as rootLog } from '../../../core/log.js';
import type { Privilege } from '../sshScripts.js';
import type { ResolvedFault } from '../types.js';
import type { SshExec } from './exec.js';
import type { SshFaultOptions } from './options.js';
import type { Units } from './units.js';

export const log = rootLog.child({ driver: 'faults.ssh' });

/** What every ssh fault type works with: one driver's options, its hosts and the means to reach them. */
export interface SshFaultContext {
  readonly options: SshFaultOptions;
  /** What privileged commands are prefixed with (sudo -n, or nothing as root). */
  readonly privilege: Privilege;
  readonly units: Units;
  /** The inventory's host of that name; an unknown one is a GamedayError. */
  hostOf(name: string, f: ResolvedFault): Host;
  exec: SshExec;
  /** Runs `fn` on every host (at most maxParallel at a time); all are tried, then one error lists the failures. */
  onEach<R>(f: ResolvedFault, verb: string, hosts: Host[], fn: (h: Host) => Promise<R>): Promise<R[]>;
  /** Resolves a DNS name to its addresses (for partitions). */
  resolveName(name: string): Promise<string[]>;
  /** The nft table of this fault (<prefix>_<fault id>). */
  table(f: ResolvedFault): string;
}

/**
 * One fault type over ssh: its pre-check, its inject and its undo side by
 * side, so each undo is read next to what it undoes. `hosts` are the hosts
 * the fault touches, already found in the inventory and checked to be ssh
 * destinations. Adding a type: one such object, registered in ssh.ts.
 */
export interface SshFaultType {
  /** The names of the hosts the fault touches, when not `f.hosts` (a partition: both sides). */
  hostNames?(f: ResolvedFault): string[];
  /** Refuses, before anything is touched, what this type could not do on these hosts. */
  check(ctx: SshFaultContext, f: ResolvedFault, hosts: Host[]): void;
  inject(ctx: SshFaultContext, f: ResolvedFault, hosts: Host[]): Promise<Record<string, unknown>>;
  /** Safe to run again, and after a half-done inject. */
  undo(ctx: SshFaultContext, f: ResolvedFault, hosts: Host[]): Promise<Record<string, unknown>>;
}
