import type { Redis } from 'ioredis';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB, toNotification, type NotificationRow } from '../../drivers/notificationStore.js';

/**
 * Rewrites one user's notifications from the truth, atomically: every
 * notification MariaDB has (score and payload; a read state already in Redis
 * is kept, since read is final and a mark-read may have landed after the
 * truth was read, unless MariaDB was asked again and still says unread:
 * `force`), minus the ids confirmed absent from MariaDB; then the
 * unread counter is recounted from the stored payloads, inside the same
 * script, so a concurrent create or mark-read (itself one script) cannot
 * slip between count and set.
 * ARGV: n, then n quadruples (id, score, payload, force 0|1), then the ids to remove.
 */
const REPAIR_USER_LUA = `#!lua
local n = tonumber(ARGV[1])
for i = 0, n - 1 do
  local id, score, payload, force = ARGV[2 + i * 4], ARGV[3 + i * 4], ARGV[4 + i * 4], ARGV[5 + i * 4]
  local old = redis.call('HGET', KEYS[2], id)
  if force == '1' or not (old and cjson.decode(old).readAt ~= cjson.null and cjson.decode(payload).readAt == cjson.null) then
    redis.call('HSET', KEYS[2], id, payload)
  end
  redis.call('ZADD', KEYS[1], score, id)
end
for i = 2 + n * 4, #ARGV do
  redis.call('HDEL', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[1], ARGV[i])
end
local unread = 0
for _, p in ipairs(redis.call('HVALS', KEYS[2])) do
  if cjson.decode(p).readAt == cjson.null then unread = unread + 1 end
end
redis.call('SET', KEYS[3], unread)
return unread
`;

type RepairRedis = Redis & { repairNotificationUser(ids: string, data: string, unread: string, ...args: Array<string | number>): Promise<number> };

/** Rewrites these users' Redis data from MariaDB; returns how many users were rewritten. */
export async function repairUsers(db: Connection, redis: Redis, userIds: number[]): Promise<number> {
  redis.defineCommand('repairNotificationUser', { numberOfKeys: 3, lua: REPAIR_USER_LUA });
  const r = redis as RepairRedis;
  for (const userId of userIds) {
    const [rows] = await db.query<(NotificationRow & RowDataPacket)[]>(`SELECT * FROM ${NOTIFICATIONS_DB}.notifications WHERE user_id = ?`, [userId]);
    const truth = rows.map(toNotification);
    const truthIds = new Set(truth.map((n) => String(n.id)));
    const inRedis = new Set([...(await redis.zrange(keys.ids(userId), '0', '-1')), ...(await redis.hkeys(keys.data(userId)))]);
    // Every Redis entry follows a committed row, so an id that MariaDB still lacks now is truly extra.
    const candidates = [...inRedis].filter((id) => !truthIds.has(id));
    let extras: string[] = [];
    if (candidates.length > 0) {
      const [found] = await db.query<RowDataPacket[]>(`SELECT id FROM ${NOTIFICATIONS_DB}.notifications WHERE id IN (?)`, [candidates.map((id) => (/^\d+$/.test(id) ? id : '0'))]);
      const exists = new Set(found.map((f) => String(f.id)));
      extras = candidates.filter((id) => !exists.has(id));
    }
    // Read in Redis, unread in MariaDB: ask MariaDB again (a mark-read commits there first); still unread means Redis is wrong.
    const readInRedis = new Set<string>();
    const payloads = truth.length > 0 ? await redis.hmget(keys.data(userId), ...truth.map((n) => String(n.id))) : [];
    truth.forEach((n, i) => {
      const p = payloads[i];
      if (n.readAt === null && p && (JSON.parse(p) as { readAt: string | null }).readAt !== null) readInRedis.add(String(n.id));
    });
    const force = new Set<string>();
    if (readInRedis.size > 0) {
      const [still] = await db.query<RowDataPacket[]>(`SELECT id FROM ${NOTIFICATIONS_DB}.notifications WHERE id IN (?) AND read_at IS NULL`, [[...readInRedis]]);
      for (const r of still) force.add(String(r.id));
    }
    const args = truth.flatMap((n) => [String(n.id), Date.parse(n.createdAt), JSON.stringify(n), force.has(String(n.id)) ? '1' : '0']);
    await r.repairNotificationUser(keys.ids(userId), keys.data(userId), keys.unread(userId), truth.length, ...args, ...extras);
  }
  return userIds.length;
}
