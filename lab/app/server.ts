import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { NotificationService } from './notifications.js';
import { IDEMPOTENCY_HEADER, idempotencyKeyOf, IdempotencyKeyReused, InvalidIdempotencyKey } from './idempotency.js';

const createBody = z.object({ title: z.string().min(1).max(200), body: z.string().max(10_000) });
const rotationBody = z.object({ inRotation: z.boolean() });

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** The id columns' ranges: INT UNSIGNED users, and notification ids JavaScript numbers hold exactly. */
const MAX_USER_ID = 2 ** 32 - 1;
const MAX_NOTIFICATION_ID = Number.MAX_SAFE_INTEGER;

/** An id from the path, range-checked: no such id is a 404, never a query with Infinity or a rounded number. */
function idOf(text: string, what: string, max: number): number {
  const n = Number(text);
  if (text.length > 16 || !Number.isSafeInteger(n) || n < 1 || n > max) throw new HttpError(404, `no ${what} ${text.length > 20 ? `${text.slice(0, 20)}…` : text}`);
  return n;
}

/** Response headers: which instance answered (every response), where a read came from, whether a create was a replay. */
export const SERVED_BY_HEADER = 'X-Served-By';
export const READ_SOURCE_HEADER = 'X-Read-Source';
export const REPLAYED_HEADER = 'Idempotent-Replayed';

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(`${JSON.stringify(body)}\n`);
}

/** What the L7 check needs to know about the instance besides its rotation flag. */
export interface InstanceHealth {
  /** ioredis's status of the app's Redis client. */
  redis: string;
}

/**
 * Whether HAProxy should send traffic here. Redis being away is no reason
 * (reads fall back to MariaDB, writes are queued, and every instance would
 * fail alike); a Redis client that has ended is: it never comes back by
 * itself, and only this instance has it.
 */
export function l7Healthy(inRotation: boolean, health: InstanceHealth): boolean {
  return inRotation && health.redis !== 'end';
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new HttpError(413, 'body too large');
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
}

function parseOrThrow<T>(schema: z.ZodType<T>, data: unknown): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new HttpError(400, r.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; '));
  return r.data;
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(header?.replace(/^Bearer\s+/i, '') ?? '');
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}

/**
 * The notification center's HTTP API. The L7 check is what HAProxy polls;
 * taking the instance out of rotation needs the token (the seed's had no
 * ACL, so anyone could take a server down).
 */
export function notificationServer(
  service: NotificationService,
  l7checkToken: string,
  instance: string,
  stats: () => Record<string, unknown> = () => ({}),
  health: () => InstanceHealth = () => ({ redis: 'ready' }),
): Server {
  let inRotation = true;

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://app');
    const path = url.pathname;
    if (path === '/monitor/l7check') {
      if (req.method === 'GET' || req.method === 'HEAD') {
        const h = health();
        return send(res, l7Healthy(inRotation, h) ? 200 : 503, { instance, inRotation, ...h });
      }
      if (req.method === 'PUT') {
        if (!tokenMatches(req.headers.authorization, l7checkToken)) throw new HttpError(401, 'a valid bearer token is needed');
        inRotation = parseOrThrow(rotationBody, await readJson(req)).inRotation;
        return send(res, 200, { instance, inRotation });
      }
      throw new HttpError(405, 'GET or PUT');
    }
    if (path === '/monitor/stats' && req.method === 'GET') return send(res, 200, { instance, ...stats() });
    const list = path.match(/^\/users\/(\d+)\/notifications$/);
    if (list) {
      const userId = idOf(list[1], 'user', MAX_USER_ID);
      if (req.method === 'GET') {
        const limit = Math.min(100, Math.max(1, Number(url.searchParams.get('limit') ?? 20) || 20));
        const { source, page } = await service.list(userId, limit);
        return send(res, 200, page, { [READ_SOURCE_HEADER]: source });
      }
      if (req.method === 'POST') {
        const key = idempotencyKeyOf(req.headers[IDEMPOTENCY_HEADER]);
        const body = parseOrThrow(createBody, await readJson(req));
        if (!(await service.userExists(userId))) throw new HttpError(404, `no user ${userId}`);
        const created = await service.create(userId, body.title, body.body, key);
        // A replay answers as the first create did (201, same notification), and says so.
        return send(res, 201, created.notification, created.replayed ? { [REPLAYED_HEADER]: 'true' } : {});
      }
      throw new HttpError(405, 'GET or POST');
    }
    const read = path.match(/^\/users\/(\d+)\/notifications\/(\d+)\/read$/);
    if (read && req.method === 'POST') {
      const n = await service.markRead(idOf(read[1], 'user', MAX_USER_ID), idOf(read[2], 'notification', MAX_NOTIFICATION_ID));
      if (!n) throw new HttpError(404, `no notification ${read[2]} for user ${read[1]}`);
      return send(res, 200, n);
    }
    throw new HttpError(404, 'not found');
  }

  return createServer((req, res) => {
    res.setHeader(SERVED_BY_HEADER, instance);
    route(req, res).catch((err: Error) => {
      if (err instanceof HttpError) return send(res, err.status, { error: err.message });
      if (err instanceof InvalidIdempotencyKey) return send(res, 400, { error: err.message });
      if (err instanceof IdempotencyKeyReused) return send(res, 422, { error: err.message });
      // A backend (MariaDB, Redis) failed: the instance is up but cannot serve this now. The
      // backend's own message stays in the log: it can name tables, columns and data.
      process.stderr.write(`${new Date().toISOString()} ${req.method} ${req.url}: ${err.message}\n`);
      send(res, 503, { error: 'backend unavailable, try again' });
    });
  });
}
