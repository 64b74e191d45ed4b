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
  /** Given up: the queue was full (the oldest went), or Redis refused the entry itself again and again. The consistency check finds them. */
  dropped: number;
  /** The queue is at its bound: Redis has been away for long; an alarm, not a state to stay in. */
  overflowing: boolean;
}

/** Pending writes kept at most: a Redis away for an hour must not grow the app until it dies. */
export const MAX_PENDING = 50_000;
/** Times Redis may refuse one entry (a reply error, not a lost connection) before it is dropped, so that it cannot starve the rest. */
const MAX_REFUSALS = 5;

/** A refusal of this write by a Redis that answers (a script or type error), as opposed to a Redis that is away. */
function isReplyError(err: unknown): boolean {
  return (err as { name?: string }).name === 'ReplyError';
}

interface PendingWrite {
  userId: number;
  n: Notification;
  refusals: number;
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
  private readonly counts = { applied: 0, retried: 0, queued: 0, repaired: 0, dropped: 0 };
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly redis: Pick<SentinelRedis, 'usable' | 'current' | 'noteFailure'>,
    private readonly inlineBudgetMs = 250,
    repairEveryMs = 500,
    private readonly maxPending = MAX_PENDING,
    private readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
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
    return { ...this.counts, pending: this.queue.size, overflowing: this.queue.size >= this.maxPending };
  }

  /**
   * Stops, after trying to put what is pending into Redis for up to
   * `timeoutMs` (a drained instance must not take its queue with it); says
   * how many were left, which only the consistency check can now find.
   */
  async close(timeoutMs = 5000): Promise<number> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.size > 0 && Date.now() < deadline) {
      await this.repair();
      if (this.queue.size > 0) await sleep(100);
    }
    if (this.queue.size > 0) this.log(`redis writer: closing with ${this.queue.size} writes not in Redis (the consistency check will find them)`);
    return this.queue.size;
  }

  private enqueue(userId: number, n: Notification): void {
    // One entry per notification and state: a later read state replaces an unread one (read is final).
    const key = `${n.id}:${n.readAt === null ? 'unread' : 'read'}`;
    if (!this.queue.has(key)) {
      this.counts.queued++;
      if (this.queue.size >= this.maxPending) {
        // Bounded: the oldest goes (Map keeps insertion order), and says so once per overflow.
        const oldest = this.queue.keys().next().value as string;
        this.queue.delete(oldest);
        this.counts.dropped++;
        if (this.counts.dropped === 1 || this.counts.dropped % 1000 === 0) this.log(`redis writer: queue full (${this.maxPending}): dropped ${this.counts.dropped} writes so far; Redis has been away too long`);
      }
    }
    this.queue.set(key, { userId, n, refusals: this.queue.get(key)?.refusals ?? 0 });
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
        } catch (err) {
          if (!isReplyError(err)) return; // Redis is still away: try the rest on the next round
          // Redis answers but refuses this one: it must not hold back the others.
          w.refusals++;
          if (w.refusals >= MAX_REFUSALS) {
            this.queue.delete(key);
            this.counts.dropped++;
            this.log(`redis writer: dropped notification ${w.n.id} of user ${w.userId} after ${w.refusals} refusals (${(err as Error).message})`);
          }
        }
      }
    } finally {
      this.repairing = false;
    }
  }
}
