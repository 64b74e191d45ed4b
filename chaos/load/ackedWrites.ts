import type { Redis } from 'ioredis';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, type Notification } from '../../drivers/notificationStore.js';
import type { AckedWrite, LoopReport } from './loop.js';

export interface AckedWritesCheck {
  created: number;
  markedRead: number;
  /** Acknowledged creates whose row MariaDB does not have. */
  createsLostInDb: AckedWrite[];
  /** Acknowledged creates that Redis does not serve (users never see them). */
  createsLostInRedis: AckedWrite[];
  /** Acknowledged mark-reads that MariaDB does not show read. */
  readsLostInDb: AckedWrite[];
  /** Acknowledged mark-reads that Redis serves as unread. */
  readsLostInRedis: AckedWrite[];
}

/** Every write the load got an acknowledgement for, looked up in MariaDB (the primary) and in the Redis primary. */
export async function checkAckedWrites(acked: LoopReport['acked'], db: Connection, redis: Redis): Promise<AckedWritesCheck> {
  const all = [...acked.created, ...acked.markedRead];
  const rows = new Map<number, { user_id: number; title: string; read_at: Date | null }>();
  for (let i = 0; i < all.length; i += 1000) {
    const ids = all.slice(i, i + 1000).map((w) => w.id);
    const [found] = await db.query<RowDataPacket[]>(`SELECT id, user_id, title, read_at FROM ${NOTIFICATIONS_DB}.notifications WHERE id IN (?)`, [ids]);
    for (const r of found) rows.set(Number(r.id), { user_id: Number(r.user_id), title: String(r.title), read_at: r.read_at });
  }
  const payloads = new Map<number, Notification | null>();
  for (let i = 0; i < all.length; i += 1000) {
    const batch = all.slice(i, i + 1000);
    const pipe = redis.pipeline();
    for (const w of batch) {
      pipe.hget(keys.data(w.userId), String(w.id));
      pipe.zscore(keys.ids(w.userId), String(w.id));
    }
    const replies = (await pipe.exec()) ?? [];
    batch.forEach((w, k) => {
      const [, payload] = replies[k * 2];
      const [, score] = replies[k * 2 + 1];
      payloads.set(w.id, payload && score !== null ? (JSON.parse(payload as string) as Notification) : null);
    });
  }
  return {
    created: acked.created.length,
    markedRead: acked.markedRead.length,
    // The row must be the one the create made: its user and, where the load knows it, its title (an id reused by another insert is no proof).
    createsLostInDb: acked.created.filter((w) => rows.get(w.id)?.user_id !== w.userId || (w.title !== undefined && rows.get(w.id)?.title !== w.title)),
    createsLostInRedis: acked.created.filter((w) => !payloads.get(w.id) || (w.title !== undefined && payloads.get(w.id)?.title !== w.title)),
    readsLostInDb: acked.markedRead.filter((w) => !rows.get(w.id)?.read_at),
    readsLostInRedis: acked.markedRead.filter((w) => !payloads.get(w.id)?.readAt),
  };
}

export function describeAckedWrites(c: AckedWritesCheck): string {
  const lost = c.createsLostInDb.length + c.createsLostInRedis.length + c.readsLostInDb.length + c.readsLostInRedis.length;
  const head = `${c.created} acknowledged creates and ${c.markedRead} mark-reads`;
  if (lost === 0) return `${head}: every one in MariaDB and in Redis`;
  return `${head}: LOST creates ${c.createsLostInDb.length} in MariaDB, ${c.createsLostInRedis.length} in Redis; mark-reads ${c.readsLostInDb.length} in MariaDB, ${c.readsLostInRedis.length} in Redis`;
}
