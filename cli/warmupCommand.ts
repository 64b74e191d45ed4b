import type { Command } from 'commander';
import { hostsOfKind } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { requireRunbook } from '../runbooks/registry.js';
import { createEnvironment } from './wiring/environment.js';
import { runsRunbook } from './runbookCommand.js';
import { fleet } from '../runbooks/steps/fleet.js';
import { openNotificationStores, repairHint } from '../runbooks/steps/consistencyCheck.js';
import { describeVerify, usersToVerify, verifyNotifications } from '../warmup/redis/verify.js';
import { repairUsers } from '../warmup/redis/repair.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { withConnection } from '../drivers/mysql/readiness.js';
import { dumpNow } from '../drivers/mysql/bufferPool.js';
import { summaryOf } from './summaries.js';

interface VerifyFlags {
  all?: boolean;
  sample?: string;
  users?: string;
  since?: string;
  repair?: boolean;
  json?: boolean;
  inventory?: string;
  labDir?: string;
}

/** "1-100,250,300-310" -> the user ids; one clear error otherwise. */
export function parseUserList(text: string): number[] {
  const ids = new Set<number>();
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = part.match(/^(\d{1,10})(?:-(\d{1,10}))?$/);
    const from = Number(m?.[1]);
    const to = Number(m?.[2] ?? m?.[1]);
    if (!m || from < 1 || to < from || to - from > 10_000_000) {
      throw new GamedayError('BAD_USERS', `"${part}" is not a user id or a rising range of them`, '--users', 'e.g. --users 1-100,250');
    }
    for (let u = from; u <= to; u++) ids.add(u);
  }
  return [...ids].sort((a, b) => a - b);
}

function parseSample(text: string | undefined): number {
  const n = Number(text ?? 1000);
  if (!Number.isInteger(n) || n < 0 || n > 1_000_000) throw new GamedayError('BAD_SAMPLE', `"${text}" is not a number of users`, '--sample', 'e.g. --sample 1000');
  return n;
}

function parseSince(text: string | undefined): Date {
  if (text === undefined) return new Date();
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new GamedayError('BAD_SINCE', `"${text}" is not a date and time`, '--since', 'e.g. --since 2026-12-01T02:00:00Z');
  return d;
}

export function registerWarmup(program: Command): void {
  const warmup = program.command('warmup').description(summaryOf('warmup'));
  runsRunbook(
    warmup
      .command('mysql')
      .description('Warm a fenced db host\'s InnoDB buffer pool (its own dump, a warm peer\'s pages, scans of the peer\'s hottest indexes) before its weight comes back; a runbook run')
      .argument('[host]', 'the db host, e.g. db-2 (or --host)'),
    requireRunbook('warmup-mysql'),
  );
  registerMysqlDump(warmup);
  const redis = warmup.command('redis').description('The notification data in Redis, against MariaDB (the truth)');
  runsRunbook(
    redis
      .command('rebuild')
      .description('Rebuild the notification data in Redis from MariaDB, exactly (read state, counters, order), while the app writes; a runbook run: resumable, with a journal ("gameday runbook resume <run-id>")'),
    requireRunbook('redis-rebuild'),
  );
  registerRedisVerify(redis);
}

function registerMysqlDump(warmup: Command): void {
  const dump = warmup
    .command('mysql-dump')
    .description('Dump every db host\'s buffer pool now (the periodic job: after a power loss, MariaDB loads this dump at start-up)')
    .option('--hosts <list>', 'only these db hosts, e.g. db-1,db-2 (default: every db host)');
  withOptions(dump, 'inventory', 'labDir').action(
    action(async (flags: { hosts?: string; inventory?: string; labDir?: string }) => {
      const env = await createEnvironment({ inventoryFile: flags.inventory, labDir: flags.labDir ?? process.env.GAMEDAY_LAB_DIR });
      try {
        const dbHosts = hostsOfKind(env.inventory, 'mariadb').map((h) => h.name);
        const wanted = flags.hosts === undefined ? dbHosts : flags.hosts.split(',').map((h) => h.trim());
        const unknown = wanted.filter((h) => !dbHosts.includes(h));
        if (unknown.length > 0 || wanted.length === 0) throw new GamedayError('BAD_HOSTS', `not db hosts of this inventory: ${unknown.join(', ') || '(none given)'}`, '--hosts', `db hosts: ${dbHosts.join(', ')}`);
        let failed = 0;
        for (const host of wanted) {
          try {
            const status = await withConnection(fleet(env.env).mysql, host, (c) => dumpNow(c));
            process.stdout.write(`${host}: ${status}\n`);
          } catch (err) {
            failed++;
            process.stdout.write(`${host}: not dumped: ${(err as Error).message}\n`);
          }
        }
        return failed > 0 ? 1 : 0;
      } finally {
        await env.close();
      }
    }),
  );
}

function registerRedisVerify(redis: Command): void {
  const verify = redis
    .command('verify')
    .description('Compare the notification data in Redis with MariaDB (ids, read state, order, unread counters); exit 1 on any mismatch')
    .option('--all', 'check every user')
    .option('--sample <n>', 'check this many random users (default 1000), plus those changed since --since')
    .option('--since <time>', 'with --sample: also every user whose notifications changed since then (ISO time)')
    .option('--users <list>', 'check exactly these users, e.g. 1-100,250')
    .option('--repair', 'rewrite the users that disagree from MariaDB, then check them again');
  withOptions(verify, 'json', 'inventory', 'labDir').action(action(verifyRedis));
}

/** "warmup redis verify": 0 when Redis agrees with MariaDB for every user checked, 1 otherwise. */
async function verifyRedis(flags: VerifyFlags): Promise<number> {
  const picked = [flags.all, flags.users !== undefined, flags.sample !== undefined].filter(Boolean).length;
  if (picked > 1) throw new GamedayError('BAD_FLAGS', '--all, --sample and --users each choose the users: give one', '--all/--sample/--users', 'e.g. --sample 1000, or --users 1-100');
  const explicit = flags.users === undefined ? undefined : parseUserList(flags.users);
  const sample = parseSample(flags.sample);
  const since = parseSince(flags.since);
  const env = await createEnvironment({ inventoryFile: flags.inventory, labDir: flags.labDir ?? process.env.GAMEDAY_LAB_DIR });
  const stores = await openNotificationStores(fleet(env.env), env.inventory);
  try {
    const users = explicit ?? (await usersToVerify(stores.db, flags.all ? { all: true } : { since, sample }));
    let result = await verifyNotifications(stores.db, stores.redis, users);
    let repaired = 0;
    if (flags.repair && result.usersMismatched > 0) {
      repaired = await repairUsers(stores.db, stores.redis, result.users.map((u) => u.userId));
      result = await verifyNotifications(stores.db, stores.redis, result.users.map((u) => u.userId));
    }
    if (flags.json) process.stdout.write(`${JSON.stringify({ ...result, repaired, db: stores.dbHost, redis: stores.redisAddress }, null, 2)}\n`);
    else {
      if (repaired > 0) process.stdout.write(`repaired ${repaired} users from MariaDB (${stores.dbHost}) into Redis (${stores.redisAddress}); checked them again:\n`);
      process.stdout.write(`${describeVerify(result)}\n`);
      if (result.usersMismatched > 0 && !flags.repair) process.stdout.write(`${repairHint(result)}\n`);
    }
    return result.usersMismatched > 0 ? 1 : 0;
  } finally {
    await stores.close();
    await env.close();
  }
}
