import { Redis } from 'ioredis';
import type { RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, queueNotification, toNotification, type NotificationRow } from '../drivers/notificationStore.js';
import type { LabContext } from './context.js';
import { rootConnection } from './bootstrap.js';

const BATCH = 5000;

/**
 * Fills the Redis primary from the database at lab start-up, in pipelined
 * batches (keyset pages of the notifications table). Returns the count.
 */
export async function seedRedisFromDatabase(lab: LabContext): Promise<number> {
  const primary = lab.hostsOf('redis').find((h) => h.role === 'primary')!;
  const redis = new Redis({ host: primary.address, port: primary.services.redis, maxRetriesPerRequest: 1 });
  const db = await rootConnection(lab, lab.host(lab.state.dbPrimary));
  let count = 0;
  try {
    let lastId = 0;
    for (;;) {
      const [rows] = await db.query<(NotificationRow & RowDataPacket)[]>(
        `SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id > ? ORDER BY id LIMIT ${BATCH}`,
        [lastId],
      );
      if (rows.length === 0) break;
      const pipe = redis.pipeline();
      for (const row of rows) queueNotification(pipe, row.user_id, toNotification(row));
      await pipe.exec();
      lastId = Number(rows[rows.length - 1].id);
      count += rows.length;
    }
    const [unread] = await db.query<RowDataPacket[]>(
      `SELECT user_id, COUNT(*) AS n FROM ${NOTIFICATIONS_DB}.notifications WHERE read_at IS NULL GROUP BY user_id`,
    );
    const pipe = redis.pipeline();
    for (const row of unread) pipe.set(keys.unread(row.user_id), Number(row.n));
    await pipe.exec();
    return count;
  } finally {
    await db.end();
    redis.disconnect();
  }
}
