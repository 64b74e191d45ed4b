import { setTimeout as sleep } from 'node:timers/promises';
import type { ResultSetHeader, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, toNotification, WARM_KEY, type Notification, type NotificationRow } from '../../drivers/notificationStore.js';
import { IDEMPOTENCY_TABLE, IdempotencyKeyReused, requestHash } from './idempotency.js';
import { isConnectionError, isReadOnlyError, type ProxiedPool, type TransactionQuery } from './proxiedPool.js';
import type { RedisWriter } from './redisWriter.js';
import type { SentinelRedis } from './redisClient.js';
import { withTimeout } from './timeout.js';

/** What GET /users/:id/notifications returns, from Redis or from MariaDB alike. */
export interface NotificationPage {
  userId: number;
  unread: number;
  notifications: Notification[];
}

/** Where a read was served from (the X-Read-Source header). */
export type ReadSource = 'redis' | 'mariadb';

export interface Created {
  notification: Notification;
  /** A retry with a known Idempotency-Key: nothing was created, this is the first create's notification. */
  replayed: boolean;
}

/** Reads, and writes that end in the same state however often they run: hedged over both proxies when one stalls. */
const REPEATABLE = { safeToRepeat: true } as const;

/** Redis answers but does not hold the whole data set (no WARM_KEY): a rebuild is due or under way. */
class NotWarm extends Error {
  constructor() {
    super('Redis does not hold the whole data set (no warm marker): reading from MariaDB');
  }
}

type RowWithUnread = NotificationRow & RowDataPacket & { unread: number };

/**
 * How long a write that is safe to repeat is held, tried again every
 * RETRY_MS, while the write pool has no primary: a MariaDB failover takes
 * about 2 s (the old primary leaves the pool, a replica is promoted, the pool
 * takes it), and a client would rather wait that long than get an error.
 */
const WRITE_HOLD_MS = 4000;
const RETRY_MS = 100;

/**
 * The notification center's operations. MariaDB first (the truth), then Redis
 * (what users are served from). A Redis write that fails after the commit
 * is retried and, failing that, repaired in the background (RedisWriter):
 * the API answers for what MariaDB committed. A read that Redis does not
 * answer within its budget (a primary lost, a failover under way) is served
 * from MariaDB's read pool instead, in the same shape.
 */
export class NotificationService {
  constructor(
    private readonly writeDb: ProxiedPool,
    private readonly readDb: ProxiedPool,
    private readonly redis: SentinelRedis,
    private readonly redisWriter: RedisWriter,
    private readonly redisReadBudgetMs = 300,
    private readonly writeHoldMs = WRITE_HOLD_MS,
  ) {}

  /** Runs a write that is safe to repeat, again and again while no writable primary answers, for up to writeHoldMs. */
  private async heldWhileNoPrimary<T>(write: () => Promise<T>): Promise<T> {
    const giveUpAt = Date.now() + this.writeHoldMs;
    for (;;) {
      try {
        return await write();
      } catch (err) {
        if (!(isConnectionError(err) || isReadOnlyError(err)) || Date.now() + RETRY_MS >= giveUpAt) throw err;
        await sleep(RETRY_MS);
      }
    }
  }

  async list(userId: number, limit: number): Promise<{ source: ReadSource; page: NotificationPage }> {
    if (this.redis.usable) {
      try {
        return { source: 'redis', page: await withTimeout(this.listFromRedis(userId, limit), this.redisReadBudgetMs) };
      } catch (err) {
        // A Redis that answers but lost its data set is not failing: its writes go on, only reads move.
        if (!(err instanceof NotWarm)) this.redis.noteFailure(); // the next reads go straight to MariaDB for a moment
      }
    }
    return { source: 'mariadb', page: await this.listFromDatabase(userId, limit) };
  }

  private async listFromRedis(userId: number, limit: number): Promise<NotificationPage> {
    const redis = this.redis.current;
    // Sent together (one round trip): without the marker, Redis lost its data set and is being rebuilt.
    const [ids, warm] = await Promise.all([redis.zrevrange(keys.ids(userId), 0, limit - 1), redis.exists(WARM_KEY)]);
    if (!warm) throw new NotWarm();
    const [payloads, unread] = await Promise.all([
      ids.length > 0 ? redis.hmget(keys.data(userId), ...ids) : Promise.resolve([]),
      redis.get(keys.unread(userId)),
    ]);
    const notifications = payloads.filter((p): p is string => p !== null).map((p) => JSON.parse(p) as Notification);
    return { userId, unread: Number(unread ?? 0), notifications };
  }

  /** The same page from the read pool, in one round trip: newest first (Redis's score is created_at), and the unread count. */
  private async listFromDatabase(userId: number, limit: number): Promise<NotificationPage> {
    const rows = await this.readQuery<RowWithUnread[]>(
      `SELECT n.*, (SELECT COUNT(*) FROM ${NOTIFICATIONS_DB}.notifications u WHERE u.user_id = n.user_id AND u.read_at IS NULL) AS unread
         FROM ${NOTIFICATIONS_DB}.notifications n WHERE n.user_id = ? ORDER BY n.created_at DESC, n.id DESC LIMIT ?`,
      [userId, limit],
    );
    // No rows: no notifications, so none unread either.
    return { userId, unread: rows.length > 0 ? Number(rows[0].unread) : 0, notifications: rows.map(toNotification) };
  }

  /**
   * Creates a notification. With an idempotency key, the insert and the key
   * commit together; a key already taken (a retry, here or on another
   * instance) rolls the insert back and returns the notification that owns it.
   */
  async create(userId: number, title: string, body: string, idempotencyKey?: string): Promise<Created> {
    if (idempotencyKey === undefined) {
      const result = await this.writeDb.query<ResultSetHeader>(
        `INSERT INTO ${NOTIFICATIONS_DB}.notifications (user_id, title, body, created_at) VALUES (?, ?, ?, NOW(3))`,
        [userId, title, body],
      );
      // Read back from the primary (write pool): a replica may not have the row yet.
      const [row] = await this.writeDb.query<(NotificationRow & RowDataPacket)[]>(`SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id = ?`, [result.insertId], REPEATABLE);
      return this.stored(userId, toNotification(row), false);
    }
    const hash = requestHash(title, body);
    try {
      // Safe to retry whole on another proxy: a lost COMMIT answer makes the retry find the key taken.
      // Held while MariaDB fails over: the key makes every try after the first find the first one's row.
      const n = await this.heldWhileNoPrimary(() => this.writeDb.transaction((query) => this.insertWithKey(query, userId, title, body, idempotencyKey, hash), REPEATABLE));
      return this.stored(userId, n, false);
    } catch (err) {
      if ((err as { code?: string }).code !== 'ER_DUP_ENTRY') throw err;
    }
    const [owner] = await this.writeDb.query<(NotificationRow & RowDataPacket & { request_hash: Buffer })[]>(
      `SELECT n.*, k.request_hash FROM ${IDEMPOTENCY_TABLE} k JOIN ${NOTIFICATIONS_DB}.notifications n ON n.id = k.notification_id
        WHERE k.user_id = ? AND k.idempotency_key = ?`,
      [userId, idempotencyKey],
      REPEATABLE,
    );
    if (!owner) throw new Error(`idempotency key of user ${userId} names a notification that no longer exists`);
    if (!hash.equals(owner.request_hash)) throw new IdempotencyKeyReused('this Idempotency-Key was used for another notification');
    // Applied again: the first request's Redis write may be queued on an instance that has since died.
    return this.stored(userId, toNotification(owner), true);
  }

  private async insertWithKey(query: TransactionQuery, userId: number, title: string, body: string, key: string, hash: Buffer): Promise<Notification> {
    const result = await query<ResultSetHeader>(
      `INSERT INTO ${NOTIFICATIONS_DB}.notifications (user_id, title, body, created_at) VALUES (?, ?, ?, NOW(3))`,
      [userId, title, body],
    );
    // Waits for a concurrent holder of the same key to commit or roll back; ER_DUP_ENTRY if it committed.
    await query(`INSERT INTO ${IDEMPOTENCY_TABLE} (user_id, idempotency_key, request_hash, notification_id, created_at) VALUES (?, ?, ?, ?, NOW(3))`, [
      userId, key, hash, result.insertId,
    ]);
    const [row] = await query<(NotificationRow & RowDataPacket)[]>(`SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id = ?`, [result.insertId]);
    return toNotification(row);
  }

  private async stored(userId: number, n: Notification, replayed: boolean): Promise<Created> {
    await this.redisWriter.write(userId, n);
    return { notification: n, replayed };
  }

  /** Marks one read; returns undefined when the user has no such notification. */
  async markRead(userId: number, id: number): Promise<Notification | undefined> {
    const update = await this.heldWhileNoPrimary(() => this.writeDb.query<ResultSetHeader>(
      `UPDATE ${NOTIFICATIONS_DB}.notifications SET read_at = NOW(3) WHERE id = ? AND user_id = ? AND read_at IS NULL`,
      [id, userId],
      REPEATABLE, // a second run finds it read and changes nothing
    ));
    const [row] = await this.writeDb.query<(NotificationRow & RowDataPacket)[]>(
      `SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE id = ? AND user_id = ?`,
      [id, userId],
      REPEATABLE,
    );
    if (!row) return undefined;
    const n = toNotification(row);
    // Also when it was already read in MariaDB: an earlier mark-read may have committed and then failed on Redis.
    if (update.affectedRows === 1 || n.readAt !== null) await this.redisWriter.write(userId, n);
    return n;
  }

  /** Whether the user exists (read pool: replicas may serve it; users are never deleted). */
  async userExists(userId: number): Promise<boolean> {
    const rows = await this.readQuery<RowDataPacket[]>(`SELECT 1 FROM ${NOTIFICATIONS_DB}.users WHERE id = ?`, [userId]);
    return rows.length > 0;
  }

  /**
   * A read from the read pool; when no replica answers (none caught up, or
   * every one dark), from the primary through the write pool: fresher, and
   * better than failing the request.
   */
  private async readQuery<T>(sql: string, values: unknown[]): Promise<T> {
    try {
      return await this.readDb.query<T>(sql, values, REPEATABLE);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      return this.writeDb.query<T>(sql, values, REPEATABLE);
    }
  }
}
