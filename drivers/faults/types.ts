/** Every kind of fault a scenario may name; each driver supports some of them. */
export const FAULT_TYPES = ['power-off', 'kill-process', 'stop-replication', 'partition', 'redis-data-loss', 'one-way', 'loss', 'bandwidth', 'latency'] as const;
export type FaultType = (typeof FAULT_TYPES)[number];

/**
 * A fault as a game day injects it, resolved against one inventory: the
 * hosts it hits are known before anything is touched (a random target is
 * drawn once, at plan time), so the undo hits exactly the same hosts.
 */
export interface ResolvedFault {
  id: string;
  type: FaultType;
  /** What a person reads: "rack a2", "db-3 (a random replica of db)". */
  label: string;
  /** The hosts it takes away, or for a partition the hosts of both sides. */
  hosts: string[];
  /** After the warm-up, in ms. */
  atMs: number;
  /** When its undo is due, after the fault, in ms (undefined: at the end of the load). */
  forMs?: number;
  /** kill-process: the service (inventory service name, e.g. mysql, redis, http). */
  service?: string;
  /** stop-replication: which thread stops. */
  thread?: 'sql' | 'io';
  /** A { primary: <tier> } target: the tier whose live primary it takes (a plan made offline shows the inventory's). */
  livePrimaryOf?: string;
  /** partition: the hosts of each side; one-way: [from, to]; loss and latency: [target, peers]. */
  sides?: [string[], string[]];
  /** loss: the share of packets lost, in percent. */
  percent?: number;
  /** bandwidth: the link's rate, as tc writes it (1mbit). */
  rate?: string;
  /** latency: what the round trip between the target and each peer gains, in ms, and by how much it varies either way. */
  delayMs?: number;
  jitterMs?: number;
}

/**
 * Injects faults and undoes them on one kind of fleet (the lab; ssh and aws
 * fleets later). Undo must be safe to run again, and safe to run for a fault
 * that was only half injected: an abort after kill -9 replays it from the journal.
 */
export interface FaultDriver {
  kind: string;
  /** The fault types this driver can inject. */
  supports: ReadonlyArray<ResolvedFault['type']>;
  /** Refuses, before anything is touched, faults it could not inject here (a host without an instance id, a service without a unit). */
  check?(faults: ResolvedFault[]): void;
  inject(fault: ResolvedFault): Promise<Record<string, unknown>>;
  undo(fault: ResolvedFault): Promise<Record<string, unknown>>;
}
