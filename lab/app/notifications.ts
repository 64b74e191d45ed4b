import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, toNotification, type Notification, type NotificationRedis, type NotificationRow } from '../../drivers/notificationStore.js';
import type { ProxiedPool } from './proxiedPool.js';
import type { RedisWriter } from './redisWriter.js';

/**
 * The notification center's operations. MariaDB first (the truth), then Redis
 * (what users are served from). A Redis write that fails after the commit
 * is retried and, failing that, repaired in the background (RedisWriter):
 * the API answers for what MariaDB committed.
 */
export class NotificationService {
  constructor(
    private readonly writeDb: ProxiedPool,
    private readonly readDb: ProxiedPool,
    private readonly redis: NotificationRedis,
    private readonly redisWriter: RedisWriter,
  ) {}

  async list(userId: number, limit: number): Promise<{ userId: number; unread: number; notifications: Notification[] }> {
    const ids = await this.redis.zrevrange(keys.ids(userId), 0, limit - 1);
    const [payloads, unread] = await Promise.all([
      ids.length > 0 ? this.redis.hmget(keys.data(userId), ...ids) : Promise.resolve([]),
      this.redis.get(keys.unread(userId)),
    ]);
    const notifications = payloads.filter((p): p is string => p !== null).map((p) => JSON.parse(p) as Notification);
    return { userId, unread: Number(unread ?? 0), notifications };
  }

  async create(userId: number, title: string, body: string): Promise<Notification> {
    const result = await this.writeDb.query<ResultSetHeader>(
      `INSERT INTO ${NOTIFICATIONS_DB}.notifications (user_id, title, body, created_at) VALUES (?, ?, ?, NOW(3))`,
      [userId, title, body],
    );
    // Read back from the primary (write pool): a replica may not have the row yet.
    const [row] = await this.writeDb.query<(NotificationRow & RowDataPacket)[]>(
      `SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id = ?`,
      [result.insertId],
    );
    const n = toNotification(row);
    await this.redisWriter.write(userId, n);
    return n;
  }

  /** Marks one read; returns undefined when the user has no such notification. */
  async markRead(userId: number, id: number): Promise<Notification | undefined> {
    const update = await this.writeDb.query<ResultSetHeader>(
      `UPDATE ${NOTIFICATIONS_DB}.notifications SET read_at = NOW(3) WHERE id = ? AND user_id = ? AND read_at IS NULL`,
      [id, userId],
    );
    const [row] = await this.writeDb.query<(NotificationRow & RowDataPacket)[]>(
      `SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id = ? AND user_id = ?`,
      [id, userId],
    );
    if (!row) return undefined;
    const n = toNotification(row);
    // Also when it was already read in MariaDB: an earlier mark-read may have committed and then failed on Redis.
    if (update.affectedRows === 1 || n.readAt !== null) await this.redisWriter.write(userId, n);
    return n;
  }

  /** Whether the user exists (read pool: replicas may serve it). */
  async userExists(userId: number): Promise<boolean> {
    const rows = await this.readDb.query<RowDataPacket[]>(`SELECT 1 FROM ${NOTIFICATIONS_DB}.users WHERE id = ?`, [userId]);
    return rows.length > 0;
  }
}
