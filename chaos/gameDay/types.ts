import type { Logger } from 'pino';
import type { Redis } from 'ioredis';
import type { Connection } from 'mysql2/promise';
import type { Inventory } from '../../topology/index.js';
import type { FaultDriver } from '../../drivers/faults/types.js';
import type { RedisEndpoint } from '../../drivers/redis/readiness.js';
import type { ProbeAccess } from '../probes/fleetSampler.js';
import type { GameDayReport } from '../report/types.js';

/** The fleet a game day runs against, wired by the CLI (lab or real fleet). */
export interface GameDayEnv {
  inventory: Inventory;
  /** The lab layout, or the inventory file: named in the report. */
  targetName: { inventory: string; layout?: string };
  faults: FaultDriver;
  probes: ProbeAccess;
  redisServers: Array<RedisEndpoint & { name: string }>;
  /** The web frontends the load goes through (every proxy's HTTP port). */
  frontends: Array<{ address: string; port: number }>;
  /** The truth at the end: the writable MariaDB primary and the Redis primary. */
  openStores(): Promise<{ db: Connection; redis: Redis; close(): Promise<void> }>;
  /** Runs a runbook as this game day's response (a nested run that inherits its locks). */
  runResponse(runbook: string, params: Record<string, unknown>, parentRunId: string, signal: AbortSignal): Promise<{ runId: string; state: string; error?: string }>;
}

export interface GameDayOptions {
  stateDir: string;
  signal: AbortSignal;
  log: Logger;
  /** One line per thing that happens, for the terminal. */
  progress(line: string): void;
  /** For tests: how a random target is drawn. */
  pick?: (n: number) => number;
  /** How long to let things settle after the load before the final checks. */
  settleMs?: number;
}

export interface GameDayOutcome {
  report: GameDayReport;
  runDir: string;
  files: { json: string; md: string; html: string };
}
