import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, toNotification, type Notification, type NotificationRow } from '../../drivers/notificationStore.js';

/** The ways Redis can disagree with MariaDB about one user's notifications. */
export const MISMATCH_KINDS = ['missing', 'extra', 'readState', 'payload', 'order', 'counter'] as const;
export type MismatchKind = (typeof MISMATCH_KINDS)[number];
export type MismatchCounts = Record<MismatchKind, number>;

export interface UserMismatch {
  userId: number;
  counts: Partial<MismatchCounts>;
  /** A few notification ids, by kind, to look at. */
  examples: Partial<Record<MismatchKind, Array<number | string>>>;
}

export interface VerifyResult {
  usersChecked: number;
  notificationsChecked: number;
  /** Users whose Redis data still disagrees after the rechecks. */
  usersMismatched: number;
  /** Mismatches by kind, over all users (a counter is one per user). */
  mismatches: MismatchCounts;
  /** Every mismatching user, worst first. */
  users: UserMismatch[];
  durationMs: number;
}

interface RedisView {
  scores: Map<string, number>;
  payloads: Map<string, string>;
  counter: number | null;
}

const BATCH_USERS = 500;
const zero = (): MismatchCounts => ({ missing: 0, extra: 0, readState: 0, payload: 0, order: 0, counter: 0 });

/** One user's truth against one user's Redis data; undefined when they agree. */
export function compareUser(userId: number, truth: Notification[], view: RedisView): UserMismatch | undefined {
  const counts: Partial<MismatchCounts> = {};
  const examples: UserMismatch['examples'] = {};
  const add = (kind: MismatchKind, example: number | string) => {
    counts[kind] = (counts[kind] ?? 0) + 1;
    const list = (examples[kind] ??= []);
    if (list.length < 5) list.push(example);
  };
  const truthIds = new Set(truth.map((n) => String(n.id)));
  for (const n of truth) {
    const id = String(n.id);
    const payload = view.payloads.get(id);
    const score = view.scores.get(id);
    if (payload === undefined || score === undefined) {
      add('missing', n.id);
      continue;
    }
    const stored = JSON.parse(payload) as Notification;
    if ((stored.readAt === null) !== (n.readAt === null)) add('readState', n.id);
    else if (stored.title !== n.title || stored.body !== n.body || stored.createdAt !== n.createdAt || stored.readAt !== n.readAt) add('payload', n.id);
    if (score !== Date.parse(n.createdAt)) add('order', n.id);
  }
  for (const id of new Set([...view.scores.keys(), ...view.payloads.keys()])) if (!truthIds.has(id)) add('extra', id);
  const unread = truth.filter((n) => n.readAt === null).length;
  if ((view.counter ?? 0) !== unread) add('counter', `${view.counter ?? 'none'} instead of ${unread}`);
  return Object.keys(counts).length > 0 ? { userId, counts, examples } : undefined;
}

async function readTruth(db: Connection, userIds: number[]): Promise<Map<number, Notification[]>> {
  const byUser = new Map<number, Notification[]>(userIds.map((u) => [u, []]));
  const [rows] = await db.query<(NotificationRow & RowDataPacket)[]>(`SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE user_id IN (?)`, [userIds]);
  for (const row of rows) byUser.get(Number(row.user_id))?.push(toNotification(row));
  return byUser;
}

async function readRedis(redis: Redis, userIds: number[]): Promise<Map<number, RedisView>> {
  const pipe = redis.pipeline();
  for (const u of userIds) {
    pipe.zrange(keys.ids(u), '0', '-1', 'WITHSCORES');
    pipe.hgetall(keys.data(u));
    pipe.get(keys.unread(u));
  }
  const replies = (await pipe.exec()) ?? [];
  const views = new Map<number, RedisView>();
  userIds.forEach((u, i) => {
    const [zerr, flat] = replies[i * 3];
    const [herr, hash] = replies[i * 3 + 1];
    const [gerr, counter] = replies[i * 3 + 2];
    const err = zerr ?? herr ?? gerr;
    if (err) throw err;
    const scores = new Map<string, number>();
    const pairs = flat as string[];
    for (let k = 0; k < pairs.length; k += 2) scores.set(pairs[k], Number(pairs[k + 1]));
    views.set(u, { scores, payloads: new Map(Object.entries(hash as Record<string, string>)), counter: counter === null ? null : Number(counter) });
  });
  return views;
}

async function checkUsers(db: Connection, redis: Redis, userIds: number[]): Promise<{ mismatched: UserMismatch[]; notifications: number }> {
  const mismatched: UserMismatch[] = [];
  let notifications = 0;
  for (let i = 0; i < userIds.length; i += BATCH_USERS) {
    const batch = userIds.slice(i, i + BATCH_USERS);
    // MariaDB first: a write that lands in between shows in Redis only, and the recheck clears it.
    const truth = await readTruth(db, batch);
    const views = await readRedis(redis, batch);
    for (const u of batch) {
      notifications += truth.get(u)!.length;
      const m = compareUser(u, truth.get(u)!, views.get(u)!);
      if (m) mismatched.push(m);
    }
  }
  return { mismatched, notifications };
}

/**
 * Compares the notification data in Redis with MariaDB (the truth) for these
 * users: ids, payloads with their read state, order (scores) and unread
 * counters. The app keeps writing meanwhile (MariaDB first, then Redis), so a
 * user that disagrees is checked again after a pause; only what still
 * disagrees after `rechecks` rounds is reported.
 */
export async function verifyNotifications(db: Connection, redis: Redis, userIds: number[], o: { rechecks?: number; recheckDelayMs?: number } = {}): Promise<VerifyResult> {
  const started = Date.now();
  const first = await checkUsers(db, redis, userIds);
  let mismatched = first.mismatched;
  for (let round = 0; round < (o.rechecks ?? 3) && mismatched.length > 0; round++) {
    await sleep(o.recheckDelayMs ?? 1000);
    mismatched = (await checkUsers(db, redis, mismatched.map((m) => m.userId))).mismatched;
  }
  const mismatches = zero();
  for (const m of mismatched) for (const k of MISMATCH_KINDS) mismatches[k] += m.counts[k] ?? 0;
  const total = (m: UserMismatch) => Object.values(m.counts).reduce((a, b) => a + (b ?? 0), 0);
  return {
    usersChecked: userIds.length,
    notificationsChecked: first.notifications,
    usersMismatched: mismatched.length,
    mismatches,
    users: mismatched.sort((a, b) => total(b) - total(a)),
    durationMs: Date.now() - started,
  };
}

/** Which users to check: all of them, or those whose notifications changed since `since` plus a random sample of the others. */
export async function usersToVerify(db: Connection, how: { all: true } | { since: Date; sample: number }): Promise<number[]> {
  if ('all' in how) {
    const [rows] = await db.query<RowDataPacket[]>(`SELECT id FROM ${NOTIFICATIONS_DB}.users ORDER BY id`);
    return rows.map((r) => Number(r.id));
  }
  const [touched] = await db.query<RowDataPacket[]>(
    `SELECT DISTINCT user_id FROM ${NOTIFICATIONS_DB}.notifications WHERE created_at >= ? OR read_at >= ?`,
    [how.since, how.since],
  );
  const [sampled] = await db.query<RowDataPacket[]>(`SELECT id FROM ${NOTIFICATIONS_DB}.users ORDER BY RAND() LIMIT ?`, [how.sample]);
  return [...new Set([...touched.map((r) => Number(r.user_id)), ...sampled.map((r) => Number(r.id))])].sort((a, b) => a - b);
}

/** One line: what was checked and what disagrees. */
export function describeVerify(r: VerifyResult): string {
  const checked = `${r.usersChecked} users, ${r.notificationsChecked} notifications checked in ${(r.durationMs / 1000).toFixed(1)} s`;
  if (r.usersMismatched === 0) return `Redis agrees with MariaDB: ${checked}`;
  const kinds = MISMATCH_KINDS.filter((k) => r.mismatches[k] > 0).map((k) => `${k} ${r.mismatches[k]}`).join(', ');
  const some = r.users.slice(0, 5).map((u) => `user ${u.userId} (${Object.entries(u.counts).map(([k, n]) => `${k} ${n}`).join(', ')})`).join('; ');
  return `Redis disagrees with MariaDB for ${r.usersMismatched} users (${kinds}); ${checked}; e.g. ${some}`;
}
