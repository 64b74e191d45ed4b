import { setTimeout as sleep } from 'node:timers/promises';
import { applyNotification, type Notification } from '../../drivers/notificationStore.js';
import type { SentinelRedis } from './redisClient.js';

/** What the app did with its Redis writes since it started (GET /monitor/stats). */
export interface RedisWriteStats {
  /** Applied on the first try. */
  applied: number;
  /** Applied after one or more retries within the request. */
  retried: number;
  /** Failed within the request, or not tried because Redis was known to be away, and handed to the background repair. */
  queued: number;
  /** Applied later by the background repair. */
  repaired: number;
  /** Still waiting for a repair. */
  pending: number;
}

interface PendingWrite {
  userId: number;
  n: Notification;
}

/**
 * Writes notification state to Redis after MariaDB committed it. MariaDB is
 * the truth and the row is already there, so a failed Redis write must not
 * be dropped (users would never see it): it is retried within the request
 * against whatever Sentinel names primary now, then handed to a background
 * repair that keeps trying. Every write is the idempotent apply script, so a
 * write that timed out but landed, applied again, changes nothing.
 * The queue lives in memory: an app crash loses it, and the runbooks'
 * consistency check is what finds that.
 */
export class RedisWriter {
  private readonly queue = new Map<string, PendingWrite>();
  private readonly counts = { applied: 0, retried: 0, queued: 0, repaired: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: SentinelRedis,
    private readonly inlineBudgetMs = 250,
    repairEveryMs = 500,
  ) {
    this.timer = setInterval(() => void this.repair(), repairEveryMs);
    this.timer.unref();
  }

  /**
   * Resolves once the state is in Redis, or queued for repair when Redis has
   * not taken it within the budget (a hand-off or a failover in progress);
   * never throws. The request is not held for longer than the budget: the
   * row is committed, and the repair puts it in Redis moments later.
   */
  async write(userId: number, n: Notification): Promise<'applied' | 'queued'> {
    // Redis is reconnecting or just failed: waiting for it would only slow the request down.
    if (!this.redis.usable) {
      this.enqueue(userId, n);
      return 'queued';
    }
    const deadline = Date.now() + this.inlineBudgetMs;
    let attempt = 0;
    const tries = (async () => {
      for (; Date.now() < deadline; attempt++) {
        try {
          await applyNotification(this.redis.current, userId, n);
          return true;
        } catch {
          this.redis.noteFailure();
          await sleep(Math.min(50 * 2 ** attempt, 200));
        }
      }
      return false;
    })();
    let timer: NodeJS.Timeout | undefined;
    const budget = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), this.inlineBudgetMs)));
    const applied = await Promise.race([tries, budget]);
    clearTimeout(timer);
    if (!applied) this.redis.noteFailure();
    if (applied) {
      this.counts[attempt === 0 ? 'applied' : 'retried']++;
      return 'applied';
    }
    // An attempt may still be in flight and land later: the repair then changes nothing.
    this.enqueue(userId, n);
    return 'queued';
  }

  stats(): RedisWriteStats {
    return { ...this.counts, pending: this.queue.size };
  }

  close(): void {
    clearInterval(this.timer);
  }

  private enqueue(userId: number, n: Notification): void {
    // One entry per notification and state: a later read state replaces an unread one (read is final).
    const key = `${n.id}:${n.readAt === null ? 'unread' : 'read'}`;
    if (!this.queue.has(key)) this.counts.queued++;
    this.queue.set(key, { userId, n });
  }

  private repairing = false;
  private async repair(): Promise<void> {
    if (this.repairing || this.queue.size === 0) return;
    this.repairing = true;
    try {
      for (const [key, w] of this.queue) {
        try {
          await applyNotification(this.redis.current, w.userId, w.n);
          this.queue.delete(key);
          this.counts.repaired++;
        } catch {
          return; // Redis is still away: try the rest on the next round
        }
      }
    } finally {
      this.repairing = false;
    }
  }
}
