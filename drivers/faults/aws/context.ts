import type { Host } from '../../../topology/index.js';
import { log as rootLog } from '../../../core/log.js';
import type { Clock } from '../../power/clock.js';
import type { ResolvedFault } from '../types.js';
import type { AwsFaultOptions } from './options.js';
import type { Clients } from './sdk.js';

export const log = rootLog.child({ driver: 'faults.aws' });

/** What every aws fault type works with: one driver's options, its hosts and its clients. */
export interface AwsFaultContext {
  readonly options: AwsFaultOptions;
  readonly clock: Clock;
  /** The inventory's host of that name; an unknown one is a GamedayError. */
  hostOf(name: string, f: ResolvedFault): Host;
  /** A host's API region: its zone's, else the region option (undefined: the SDK's default). */
  regionFor(h: Host): string | undefined;
  /** The region's clients; only once the SDK is loaded. */
  clientsFor(region: string | undefined): Clients;
  /** Experiments this process started, by fault id (an abort from another process finds them by tag). */
  readonly started: Map<string, { region: string | undefined; id: string }>;
}

export const regionName = (r: string | undefined): string => r ?? 'the default region';

/**
 * One fault type on AWS: its pre-check, its inject and its undo side by
 * side, so each undo is read next to what it undoes. Adding a type: one
 * such object, registered in aws.ts.
 */
export interface AwsFaultType {
  /** Refuses, before anything is touched, what this type could not do on the fault's hosts. */
  check(ctx: AwsFaultContext, f: ResolvedFault): void;
  inject(ctx: AwsFaultContext, f: ResolvedFault): Promise<Record<string, unknown>>;
  /** Safe to run again, and after a half-done inject. */
  undo(ctx: AwsFaultContext, f: ResolvedFault): Promise<Record<string, unknown>>;
}
