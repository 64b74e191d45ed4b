import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, RowDataPacket } from 'mysql2/promise';
import { keys, NOTIFICATIONS_DB } from '../../drivers/notificationStore.js';
import type { RedisMassInsert } from '../../drivers/redis/massInsert.js';

/**
 * Rebuilds one user's notification data from MariaDB's rows, in one atomic
 * script, as a merge that commutes with the app's own writes
 * (APPLY_NOTIFICATION_LUA): it adds what is missing, never removes an entry
 * (a notification created after the rows were read is the app's, and right),
 * and never makes a read notification unread (a mark-read that landed after
 * the rows were read is right too: read is final, and MariaDB commits first).
 * The counter is then what the stored payloads say. So a rebuild can run
 * while the app writes, be run again (it changes nothing), or stop anywhere.
 * When the user has nothing in Redis (the data set was lost), the rows go in
 * with one ZADD and one HSET per 100 and the counter is counted from them.
 * KEYS: ids, data, unread. ARGV: n, then n quadruples (id, score, payload, unread 0|1).
 * Returns 1 when the user's data changed, else 0.
 */
export const REBUILD_USER_LUA = `#!lua
local n = tonumber(ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  local unread = 0
  for from = 0, n - 1, 100 do
    local z, h = {}, {}
    for i = from, math.min(from + 99, n - 1) do
      local b = 2 + i * 4
      z[#z + 1] = ARGV[b + 1]; z[#z + 1] = ARGV[b]
      h[#h + 1] = ARGV[b]; h[#h + 1] = ARGV[b + 2]
      if ARGV[b + 3] == '1' then unread = unread + 1 end
    end
    redis.call('ZADD', KEYS[1], unpack(z))
    redis.call('HSET', KEYS[2], unpack(h))
  end
  redis.call('SET', KEYS[3], unread)
  return n > 0 and 1 or 0
end
local changed = 0
for i = 0, n - 1 do
  local b = 2 + i * 4
  local id, payload = ARGV[b], ARGV[b + 2]
  local old = redis.call('HGET', KEYS[2], id)
  if old ~= payload and not (old and ARGV[b + 3] == '1' and cjson.decode(old).readAt ~= cjson.null) then
    redis.call('HSET', KEYS[2], id, payload)
    changed = 1
  end
  if redis.call('ZADD', KEYS[1], ARGV[b + 1], id) == 1 then changed = 1 end
end
local unread = 0
for _, p in ipairs(redis.call('HVALS', KEYS[2])) do
  if cjson.decode(p).readAt == cjson.null then unread = unread + 1 end
end
if tonumber(redis.call('GET', KEYS[3]) or '-1') ~= unread then
  redis.call('SET', KEYS[3], unread)
  changed = 1
end
return changed
`;

export const REBUILD_USER_SHA = createHash('sha1').update(REBUILD_USER_LUA).digest('hex');

/** The users a rebuild covers, and how much data they hold. */
export interface UserRange {
  from: number;
  to: number;
}

export interface RebuildTotals {
  users: number;
  notifications: number;
  /** Users whose Redis data the rebuild changed (0 on a second run). */
  changedUsers: number;
  durationMs: number;
}

/** Users read from MariaDB per query: each query is one index range scan (user_id, created_at). */
const USERS_PER_QUERY = 250;

/** A row as the query returns it, as an array (no object per row): id, user_id, title, body, created_at, read_at. */
type Row = [number, number, string, string, Date, Date | null];

function rowsOf(db: Connection, from: number, to: number): Promise<Row[]> {
  return db
    .query<RowDataPacket[]>({
      sql: `SELECT id, user_id, title, body, created_at, read_at FROM ${NOTIFICATIONS_DB}.notifications
             WHERE user_id BETWEEN ? AND ? ORDER BY user_id, created_at, id`,
      values: [from, to],
      rowsAsArray: true,
    })
    .then(([rows]) => rows as unknown as Row[]);
}

/** A bulk string; `ascii` when the text is known to be ASCII (ids, scores, keys), so its length is its byte length. */
const bulk = (text: string, ascii = false) => `$${ascii ? text.length : Buffer.byteLength(text)}\r\n${text}\r\n`;

/**
 * The payload the app stores, byte for byte what JSON.stringify(toNotification(row)) gives
 * (the same keys in the same order), built without the intermediate object: the rebuild
 * formats a million of them.
 */
export function payloadOf(row: Row): string {
  const [id, , title, body, createdAt, readAt] = row;
  return `{"id":${Number(id)},"title":${JSON.stringify(title)},"body":${JSON.stringify(body)},"createdAt":"${createdAt.toISOString()}","readAt":${readAt === null ? 'null' : `"${readAt.toISOString()}"`}}`;
}

/** One EVALSHA per user, encoded as RESP: the rows of that user, in the order the app's sorted set has them. */
function commandsFor(rows: Row[]): { resp: string; users: number } {
  const parts: string[] = [];
  let users = 0;
  for (let i = 0; i < rows.length; ) {
    const userId = Number(rows[i][1]);
    const args: string[] = [];
    let n = 0;
    for (; i < rows.length && Number(rows[i][1]) === userId; i++, n++) {
      const row = rows[i];
      args.push(bulk(String(Number(row[0])), true), bulk(String(row[4].getTime()), true), bulk(payloadOf(row)), row[5] === null ? '$1\r\n1\r\n' : '$1\r\n0\r\n');
    }
    parts.push(`*${7 + n * 4}\r\n$7\r\nEVALSHA\r\n${bulk(REBUILD_USER_SHA, true)}$1\r\n3\r\n${bulk(keys.ids(userId), true)}${bulk(keys.data(userId), true)}${bulk(keys.unread(userId), true)}${bulk(String(n), true)}${args.join('')}`);
    users++;
  }
  return { resp: parts.join(''), users };
}

/**
 * Rebuilds the users of `range` that have notifications: reads them from
 * MariaDB a slice at a time (the next slice is read while the current one
 * is written), writes one script call per user over a raw pipelined
 * connection of its own, and waits for every reply. `ratePerS`
 * (notifications per second, 0: as fast as it goes) throttles it. The
 * script must be loaded (SCRIPT LOAD) on that Redis first.
 */
export async function rebuildRange(
  dbs: Connection[],
  openRedis: () => Promise<RedisMassInsert>,
  range: UserRange,
  opts: { ratePerS?: number; signal?: AbortSignal } = {},
): Promise<RebuildTotals> {
  const started = Date.now();
  const redis = await openRedis();
  let users = 0;
  let notifications = 0;
  // Slices in order; as many in flight as there are connections (each query runs on its own), read ahead of the writes.
  const slices: UserRange[] = [];
  for (let from = range.from; from <= range.to; from += USERS_PER_QUERY) slices.push({ from, to: Math.min(range.to, from + USERS_PER_QUERY - 1) });
  const inFlight: Array<Promise<Row[]>> = [];
  let nextSlice = 0;
  const readAhead = () => {
    while (inFlight.length < dbs.length && nextSlice < slices.length && !opts.signal?.aborted) {
      const slice = slices[nextSlice];
      inFlight.push(rowsOf(dbs[nextSlice % dbs.length], slice.from, slice.to));
      nextSlice++;
    }
  };
  try {
    readAhead();
    while (inFlight.length > 0) {
      const rows = await inFlight.shift()!;
      readAhead();
      const batch = commandsFor(rows);
      await redis.sendEncoded(batch.resp, batch.users);
      users += batch.users;
      notifications += rows.length;
      if (opts.ratePerS) {
        const due = started + (notifications / opts.ratePerS) * 1000;
        if (due > Date.now()) await sleep(due - Date.now(), undefined, { signal: opts.signal }).catch(() => undefined);
      }
    }
  } catch (err) {
    redis.abort();
    await Promise.allSettled(inFlight);
    throw err;
  }
  const { integers, errors } = await redis.finish();
  if (errors.length > 0) throw new Error(`Redis refused ${errors.length} of the rebuild's script calls, e.g. ${errors[0]}`);
  // Stopped part way: what was written stays (it is right), and the step runs whole again at resume.
  if (opts.signal?.aborted) throw new Error(`stopped part way through users ${range.from}-${range.to}`);
  return { users, notifications, changedUsers: integers, durationMs: Date.now() - started };
}

/** The users MariaDB knows, as one range (the lowest and highest id), or undefined when there are none. */
export async function allUsers(db: Connection): Promise<UserRange | undefined> {
  const [[row]] = await db.query<RowDataPacket[]>(`SELECT MIN(id) AS lo, MAX(id) AS hi FROM ${NOTIFICATIONS_DB}.users`);
  return row.lo === null ? undefined : { from: Number(row.lo), to: Number(row.hi) };
}

/** Splits a range into about `parts` ranges of whole users (the run's resumable steps). */
export function splitRange(range: UserRange, parts: number): UserRange[] {
  const size = Math.max(1, Math.ceil((range.to - range.from + 1) / parts));
  const out: UserRange[] = [];
  for (let from = range.from; from <= range.to; from += size) out.push({ from, to: Math.min(range.to, from + size - 1) });
  return out;
}
