/**
 * The notification center's data model, shared by the reference app, the lab's
 * seeding and (later) the Redis rebuild. MariaDB holds the truth; Redis serves:
 *   notif:{<user>}:ids     sorted set, member = notification id, score = created_at (ms)
 *   notif:{<user>}:data    hash, notification id -> JSON payload (read state included)
 *   notif:{<user>}:unread  counter of unread notifications
 * The {<user>} hash tag keeps a user's keys in one Redis Cluster slot.
 */
import type { ChainableCommander } from 'ioredis';

export const NOTIFICATIONS_DB = 'notifications';

export const SCHEMA_SQL = [
  `CREATE DATABASE IF NOT EXISTS ${NOTIFICATIONS_DB}`,
  `CREATE TABLE IF NOT EXISTS ${NOTIFICATIONS_DB}.users (
     id INT UNSIGNED PRIMARY KEY,
     name VARCHAR(64) NOT NULL,
     created_at DATETIME(3) NOT NULL
   ) ENGINE=InnoDB`,
  `CREATE TABLE IF NOT EXISTS ${NOTIFICATIONS_DB}.notifications (
     id BIGINT UNSIGNED AUTO_INCREMENT PRIMARY KEY,
     user_id INT UNSIGNED NOT NULL,
     title VARCHAR(200) NOT NULL,
     body TEXT NOT NULL,
     created_at DATETIME(3) NOT NULL,
     read_at DATETIME(3) NULL,
     KEY by_user_time (user_id, created_at)
   ) ENGINE=InnoDB`,
];

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

/** Queues the commands that put one notification into Redis (it does not touch the unread counter). */
export function queueNotification(pipe: ChainableCommander, userId: number, n: Notification): void {
  pipe.zadd(keys.ids(userId), Date.parse(n.createdAt), String(n.id));
  pipe.hset(keys.data(userId), String(n.id), JSON.stringify(n));
}
