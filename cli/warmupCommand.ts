import type { Command } from 'commander';
import { GamedayError } from '../topology/index.js';
import { createEnvironment, requireRunbook } from '../runbooks/registry.js';
import { runsRunbook } from './runbookCommand.js';
import { fleet } from '../runbooks/fleet.js';
import { openNotificationStores, repairHint } from '../runbooks/consistencyCheck.js';
import { describeVerify, usersToVerify, verifyNotifications } from '../warmup/notificationVerify.js';
import { repairUsers } from '../warmup/notificationRepair.js';
import { action } from './run.js';

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
  const warmup = program.command('warmup').description('Bring recovered data back to what the truth says');
  const redis = warmup.command('redis').description('The notification data in Redis, against MariaDB (the truth)');
  runsRunbook(
    redis
      .command('rebuild')
      .description('Rebuild the notification data in Redis from MariaDB, exactly (read state, counters, order), while the app writes; a runbook run: resumable, with a journal ("gameday runbook resume <run-id>")'),
    requireRunbook('redis-rebuild'),
  );
  redis
    .command('verify')
    .description('Compare the notification data in Redis with MariaDB (ids, read state, order, unread counters); exit 1 on any mismatch')
    .option('--all', 'check every user')
    .option('--sample <n>', 'check this many random users (default 1000), plus those changed since --since')
    .option('--since <time>', 'with --sample: also every user whose notifications changed since then (ISO time)')
    .option('--users <list>', 'check exactly these users, e.g. 1-100,250')
    .option('--repair', 'rewrite the users that disagree from MariaDB, then check them again')
    .option('--json', 'print the result as JSON')
    .option('--inventory <file>', 'the fleet (default: the lab)')
    .option('--lab-dir <dir>', 'the lab folder (default: .gameday/lab or GAMEDAY_LAB_DIR)')
    .action(
      action(async (flags: VerifyFlags) => {
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
      }),
    );
}
