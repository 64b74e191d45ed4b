import { GamedayError } from '../core/errors.js';
import type { RegisteredRunbook } from '../engine/types.js';
import { demoCounter, sourceFile as demoSource } from '../engine/demo.js';
import { rebootStale, sourceFile as rebootStaleSource } from './rebootStale.js';
import { recoverHost, sourceFile as recoverHostSource } from './recoverHost.js';
import { failoverDb, sourceFile as failoverDbSource } from './failoverDb.js';
import { rejoinDb, sourceFile as rejoinDbSource } from './rejoinDb.js';
import { redisRebuild, sourceFile as redisRebuildSource } from './redisRebuild.js';
import { ramp, sourceFile as rampSource } from './ramp.js';
import { mysqlWarmup, sourceFile as mysqlWarmupSource } from './mysqlWarmup.js';
import { recoverRedisData, sourceFile as recoverRedisDataSource } from './recoverRedisData.js';

/**
 * Every runbook the CLI knows. To add one: in its module export the runbook
 * and `export const sourceFile = sourceFileOf(import.meta.url)` (its sha256
 * is the run's runbook version), then add `{ runbook, sourceFile }` here.
 */
export const runbooks: RegisteredRunbook[] = [
  { runbook: rebootStale, sourceFile: rebootStaleSource },
  { runbook: recoverHost, sourceFile: recoverHostSource },
  { runbook: failoverDb, sourceFile: failoverDbSource },
  { runbook: rejoinDb, sourceFile: rejoinDbSource },
  { runbook: redisRebuild, sourceFile: redisRebuildSource },
  { runbook: ramp, sourceFile: rampSource },
  { runbook: mysqlWarmup, sourceFile: mysqlWarmupSource },
  { runbook: recoverRedisData, sourceFile: recoverRedisDataSource },
  { runbook: demoCounter, sourceFile: demoSource },
];

export function findRunbook(name: string): RegisteredRunbook | undefined {
  return runbooks.find((r) => r.runbook.name === name);
}

export function requireRunbook(name: string): RegisteredRunbook {
  const found = findRunbook(name);
  if (!found) {
    throw new GamedayError('UNKNOWN_RUNBOOK', 'no such runbook', name, `one of: ${runbooks.map((r) => r.runbook.name).join(', ')}`);
  }
  return found;
}
