import type { RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, toNotification, WARM_KEY, type NotificationRow } from '../drivers/notificationStore.js';
import { RedisMassInsert } from '../drivers/redis/massInsert.js';
import type { LabContext } from './context.js';
import { rootConnection } from './bootstrap.js';

const BATCH = 5000;

/**
 * Fills the Redis primary from the database at lab start-up: keyset pages of
 * the notifications table, streamed to Redis as mass insertion. Returns the count.
 */
export async function seedRedisFromDatabase(lab: LabContext): Promise<number> {
  const primary = lab.hostsOf('redis').find((h) => h.role === 'primary')!;
  const redis = await RedisMassInsert.connect(primary.address, primary.services.redis, lab.state.secrets.redisPassword);
  const db = await rootConnection(lab, lab.initialDbPrimary);
  let count = 0;
  try {
    let lastId = 0;
    for (;;) {
      const [rows] = await db.query<(NotificationRow & RowDataPacket)[]>(
        `SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id > ? ORDER BY id LIMIT ${BATCH}`,
        [lastId],
      );
      if (rows.length === 0) break;
      await redis.send(
        rows.flatMap((row) => {
          const n = toNotification(row);
          return [
            ['ZADD', keys.ids(row.user_id), Date.parse(n.createdAt), n.id],
            ['HSET', keys.data(row.user_id), n.id, JSON.stringify(n)],
          ];
        }),
      );
      lastId = Number(rows[rows.length - 1].id);
      count += rows.length;
    }
    const [unread] = await db.query<RowDataPacket[]>(
      `SELECT user_id, COUNT(*) AS n FROM ${NOTIFICATIONS_DB}.notifications WHERE read_at IS NULL GROUP BY user_id`,
    );
    await redis.send(unread.map((row) => ['SET', keys.unread(row.user_id), Number(row.n)]));
    await redis.send([['SET', WARM_KEY, new Date().toISOString()]]);
    const { errors } = await redis.finish();
    if (errors.length > 0) throw new Error(`Redis refused ${errors.length} seeding commands, e.g. ${errors[0]}`);
    return count;
  } finally {
    await db.end();
  }
}
