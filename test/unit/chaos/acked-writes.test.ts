import { describe, expect, it } from 'vitest';
import type { Connection } from 'mysql2/promise';
import type { Redis } from 'ioredis';
import { checkAckedWrites } from '../../../chaos/load/ackedWrites.js';

/** A MariaDB that holds these rows, and a Redis that holds these payloads (fakes of the two calls the check makes). */
function stores(rows: Array<{ id: number; user_id: number; title: string; read_at: Date | null }>, payloads: Record<number, { title: string; readAt: string | null }>) {
  const db = { query: async () => [rows] } as unknown as Connection;
  const redis = {
    pipeline() {
      const replies: Array<[null, unknown]> = [];
      const p = {
        hget: (_key: string, id: string) => (replies.push([null, payloads[Number(id)] ? JSON.stringify({ id: Number(id), ...payloads[Number(id)] }) : null]), p),
        zscore: (_key: string, id: string) => (replies.push([null, payloads[Number(id)] ? '1' : null]), p),
        exec: async () => replies,
      };
      return p;
    },
  } as unknown as Redis;
  return { db, redis };
}

describe('acknowledged writes looked up in the stores', () => {
  const acked = { created: [{ userId: 7, id: 100, at: 0, title: 'loop load-abc 12' }], markedRead: [] };

  it('finds a create whose row is there, with its user and its title', async () => {
    const { db, redis } = stores([{ id: 100, user_id: 7, title: 'loop load-abc 12', read_at: null }], { 100: { title: 'loop load-abc 12', readAt: null } });
    const c = await checkAckedWrites(acked, db, redis);
    expect(c.createsLostInDb).toEqual([]);
    expect(c.createsLostInRedis).toEqual([]);
  });

  it('counts a create as lost when its id now holds another insert of the same user (the user id alone proves nothing)', async () => {
    const { db, redis } = stores([{ id: 100, user_id: 7, title: 'a later notification', read_at: null }], { 100: { title: 'a later notification', readAt: null } });
    const c = await checkAckedWrites(acked, db, redis);
    expect(c.createsLostInDb).toEqual(acked.created);
    expect(c.createsLostInRedis).toEqual(acked.created);
  });
});
