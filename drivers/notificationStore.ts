/**
 * The notification center's data model, shared by the reference app, the lab's
 * seeding and (later) the Redis rebuild. MariaDB holds the truth; Redis serves:
 *   notif:{<user>}:ids     sorted set, member = notification id, score = created_at (ms)
 *   notif:{<user>}:data    hash, notification id -> JSON payload (read state included)
 *   notif:{<user>}:unread  counter of unread notifications
 * The {<user>} hash tag keeps a user's keys in one Redis Cluster slot.
 */
import type { Redis } from 'ioredis';

export const NOTIFICATIONS_DB = 'notifications';

export const SCHEMA_SQL = [
  // utf8mb4 throughout: a title in Korean, Japanese or with an emoji is an ordinary title.
  `CREATE DATABASE IF NOT EXISTS ${NOTIFICATIONS_DB} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  `CREATE TABLE IF NOT EXISTS ${NOTIFICATIONS_DB}.users (
     id INT UNSIGNED PRIMARY KEY,
     name VARCHAR(64) NOT NULL,
     created_at DATETIME(3) NOT NULL
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
  `CREATE TABLE IF NOT EXISTS ${NOTIFICATIONS_DB}.notifications (
     id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
     user_id INT UNSIGNED NOT NULL,
     title VARCHAR(200) NOT NULL,
     body TEXT NOT NULL,
     created_at DATETIME(3) NOT NULL,
     read_at DATETIME(3) NULL,
     KEY by_user_time (user_id, created_at)
   ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`,
];

/**
 * Set once Redis holds every user's data (the lab's seeding, a full rebuild).
 * A Redis that lost its data set has no such key, and the app then serves
 * reads from MariaDB instead of empty lists (2017: users saw empty
 * notification centers) until a rebuild sets it again.
 */
export const WARM_KEY = 'notif:warm';

export const keys = {
  ids: (userId: number) => `notif:{${userId}}:ids`,
  data: (userId: number) => `notif:{${userId}}:data`,
  unread: (userId: number) => `notif:{${userId}}:unread`,
};

/** A notification as stored in MariaDB. */
export interface NotificationRow {
  id: number;
  user_id: number;
  title: string;
  body: string;
  created_at: Date;
  read_at: Date | null;
}

/** A notification as Redis serves it and the API returns it. */
export interface Notification {
  id: number;
  title: string;
  body: string;
  createdAt: string;
  readAt: string | null;
}

export function toNotification(row: NotificationRow): Notification {
  return {
    id: Number(row.id),
    title: row.title,
    body: row.body,
    createdAt: row.created_at.toISOString(),
    readAt: row.read_at ? row.read_at.toISOString() : null,
  };
}

/**
 * Puts one notification's state (as MariaDB has it) into Redis, atomically
 * and idempotently, so that a write can be retried or repaired as often as
 * needed: a notification already there unread is left alone, one already
 * read is never made unread again (read is final), and the unread counter
 * moves only when the stored read state changes. A create and a mark-read
 * that arrive in either order, once or several times, end the same way.
 * The `#!lua` line makes Redis 7 refuse it up front on a replica (READONLY),
 * so a demoted primary never applies it.
 */
export const APPLY_NOTIFICATION_LUA = `#!lua
local old = redis.call('HGET', KEYS[2], ARGV[1])
local unread = ARGV[4] == '1'
if old then
  if unread or cjson.decode(old).readAt ~= cjson.null then return 0 end
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('DECR', KEYS[3])
  return 1
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
if unread then redis.call('INCR', KEYS[3]) end
return 1
`;

/** A Redis connection with the apply script defined on it (ioredis loads it with EVALSHA, falling back to EVAL). */
export type NotificationRedis = Redis & {
  applyNotification(ids: string, data: string, unread: string, id: string, score: number, payload: string, isUnread: '0' | '1'): Promise<number>;
};

export function withNotificationCommands(redis: Redis): NotificationRedis {
  redis.defineCommand('applyNotification', { numberOfKeys: 3, lua: APPLY_NOTIFICATION_LUA });
  return redis as NotificationRedis;
}

/** Applies one notification's state; returns true when Redis changed. */
export async function applyNotification(redis: NotificationRedis, userId: number, n: Notification): Promise<boolean> {
  const changed = await redis.applyNotification(keys.ids(userId), keys.data(userId), keys.unread(userId), String(n.id), Date.parse(n.createdAt), JSON.stringify(n), n.readAt === null ? '1' : '0');
  return changed === 1;
}
