import { describe, expect, it } from 'vitest';
import type { Pool, PoolConnection } from 'mysql2/promise';
import { RedisWriter } from '../../../lab/app/redisWriter.js';
import { ProxiedPool } from '../../../lab/app/proxiedPool.js';
import { pruneIdempotencyKeys } from '../../../lab/app/idempotency.js';
import type { Notification } from '../../../drivers/notificationStore.js';

/*
 * The reference app's patterns, which users copy: a Redis write queue that
 * is bounded and cannot be starved by one bad entry, a drain that waits for
 * it, retries only of what is safe to send twice, keys that expire.
 */
const note = (id: number): Notification => ({ id, title: `t${id}`, body: '', createdAt: new Date(0).toISOString(), readAt: null }) as Notification;
const replyError = (message: string) => Object.assign(new Error(message), { name: 'ReplyError' });
const quiet = () => undefined;

function fakeRedis(apply: (id: number) => void) {
  const applied: number[] = [];
  const redis = {
    usable: false,
    noteFailure: () => undefined,
    current: {
      applyNotification: async (_ids: string, _data: string, _unread: string, id: string) => {
        apply(Number(id));
        applied.push(Number(id));
        return 1;
      },
    },
  };
  return { redis, applied };
}

describe('the app\'s Redis write queue', () => {
  it('is bounded: past its limit the oldest write goes, counted, and the stats raise the alarm (before: it grew without end)', async () => {
    const { redis } = fakeRedis(() => undefined);
    const w = new RedisWriter(redis as never, 250, 60_000, 3, quiet);
    for (let id = 1; id <= 5; id++) await w.write(1, note(id));
    expect(w.stats()).toMatchObject({ queued: 5, pending: 3, dropped: 2, overflowing: true });
    await w.close(0);
  });

  it('one entry Redis keeps refusing does not hold back the others, and is dropped after five refusals (before: the repair stopped at it, every round)', async () => {
    const { redis, applied } = fakeRedis((id) => {
      if (id === 1) throw replyError('ERR wrong type');
    });
    const w = new RedisWriter(redis as never, 250, 60_000, 100, quiet);
    await w.write(7, note(1));
    await w.write(7, note(2));
    redis.usable = true;
    expect(await w.close(2000)).toBe(0);
    expect(applied).toEqual([2]);
    expect(w.stats()).toMatchObject({ repaired: 1, dropped: 1, pending: 0 });
  });

  it('close waits for what is pending while Redis is away, and says what it could not put there (before: the queue died with the instance)', async () => {
    let away = true;
    const { redis, applied } = fakeRedis(() => {
      if (away) throw Object.assign(new Error('Connection is closed.'), { name: 'Error' });
    });
    const w = new RedisWriter(redis as never, 250, 60_000, 100, quiet);
    await w.write(7, note(3));
    setTimeout(() => (away = false), 300);
    expect(await w.close(3000)).toBe(0);
    expect(applied).toEqual([3]);
    const lines: string[] = [];
    const stuck = new RedisWriter(fakeRedis(() => { throw new Error('Connection is closed.'); }).redis as never, 250, 60_000, 100, (l) => void lines.push(l));
    await stuck.write(7, note(4));
    expect(await stuck.close(300)).toBe(1);
    expect(lines.join('\n')).toContain('closing with 1 writes not in Redis');
  });
});

/** Two proxies: the first's connections fail as `first` says, the second's answer and count what they ran. */
function twoProxies(first: { connect?: Error; query?: Error }) {
  const ran: string[] = [];
  const conn = (fail?: Error) =>
    ({
      query: async (q: { sql: string }) => {
        if (fail && q.sql !== 'ROLLBACK') throw fail;
        ran.push(q.sql);
        return [{ affectedRows: 1 }];
      },
      release: () => undefined,
      destroy: () => undefined,
    }) as unknown as PoolConnection;
  let made = 0;
  const makePool = () => {
    const index = made++;
    return {
      getConnection: async () => {
        if (index === 0 && first.connect) throw first.connect;
        return conn(index === 0 ? first.query : undefined);
      },
      end: async () => undefined,
    } as unknown as Pool;
  };
  const pool = new ProxiedPool([{ host: '127.0.0.2', port: 1 }, { host: '127.0.0.3', port: 1 }], {}, undefined, 3000, makePool);
  return { pool, ran };
}
const reset = () => Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
const refused = () => Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });

describe('the app\'s database pool retries only what is safe to send twice', () => {
  it('an INSERT whose connection died after it was sent is not sent again through the other proxy (before: it was, and could land twice)', async () => {
    const { pool, ran } = twoProxies({ query: reset() });
    await expect(pool.query('INSERT INTO t VALUES (1)')).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(ran).toEqual([]);
    const safe = twoProxies({ query: reset() });
    await safe.pool.query('UPDATE t SET read_at = NOW() WHERE read_at IS NULL', [], { safeToRepeat: true });
    expect(safe.ran).toEqual(['UPDATE t SET read_at = NOW() WHERE read_at IS NULL']);
  });

  it('any statement goes to the other proxy when no connection could be had: nothing was sent', async () => {
    const { pool, ran } = twoProxies({ connect: refused() });
    await pool.query('INSERT INTO t VALUES (1)');
    expect(ran).toEqual(['INSERT INTO t VALUES (1)']);
  });

  it('a transaction is retried whole only when its caller says it is safe', async () => {
    const unsafe = twoProxies({ query: reset() });
    await expect(unsafe.pool.transaction((q) => q('INSERT INTO t VALUES (1)'))).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(unsafe.ran).toEqual([]);
    const keyed = twoProxies({ query: reset() });
    await keyed.pool.transaction((q) => q('INSERT INTO t VALUES (1)'), { safeToRepeat: true });
    expect(keyed.ran).toEqual(['START TRANSACTION', 'INSERT INTO t VALUES (1)', 'COMMIT']);
  });
});

describe('idempotency keys', () => {
  it('expire after a day, pruned a bounded batch at a time (before: kept forever)', async () => {
    const sent: Array<[string, unknown[]]> = [];
    const n = await pruneIdempotencyKeys(async (sql, values) => {
      sent.push([sql, values]);
      return { affectedRows: 7 };
    });
    expect(n).toBe(7);
    expect(sent[0]![0]).toContain('WHERE created_at < NOW(3) - INTERVAL ? HOUR LIMIT ?');
    expect(sent[0]![1]).toEqual([24, 1000]);
  });
});
