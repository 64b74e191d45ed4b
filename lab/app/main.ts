/**
 * The reference notification center, one instance. Usage: main.ts <config.json>
 * Reaches Redis through Sentinel and MariaDB through the proxies' write and read pools.
 */
import type { ResultSetHeader } from 'mysql2/promise';
import { readAppConfig } from './config.js';
import { pruneIdempotencyKeys } from './idempotency.js';
import { ProxiedPool } from './proxiedPool.js';
import { DarkProxies } from './darkProxies.js';
import { NotificationService } from './notifications.js';
import { RedisWriter } from './redisWriter.js';
import { appRedisOptions, SentinelRedis } from './redisClient.js';
import { notificationServer } from './server.js';

const config = readAppConfig(process.argv[2]);

const redis = new SentinelRedis(appRedisOptions({
  sentinels: config.sentinels,
  name: config.sentinelMasterName,
  password: config.redisPassword,
  sentinelPassword: config.sentinelPassword,
}));

// From the instance's own lab address (never 127.0.0.1), so that a partition between lab addresses cuts it.
const dbOptions = { user: config.db.user, password: config.db.password, database: config.db.database, dateStrings: false as const, localAddress: config.listen.host };
// One view of which proxies went dark: both pools run through the same proxy hosts.
const darkProxies = new DarkProxies();
const writeDb = new ProxiedPool(config.proxies.map((p) => ({ host: p.host, port: p.writePort })), dbOptions, darkProxies);
const readDb = new ProxiedPool(config.proxies.map((p) => ({ host: p.host, port: p.readPort })), dbOptions, darkProxies);

const redisWriter = new RedisWriter(redis);
const service = new NotificationService(writeDb, readDb, redis, redisWriter);
const server = notificationServer(
  service,
  config.l7checkToken,
  config.name,
  () => ({ redisWrites: redisWriter.stats(), redisClient: { status: redis.status, replaced: redis.replaced } }),
  () => ({ redis: redis.status }),
);
server.listen(config.listen.port, config.listen.host);

// Idempotency keys expire (IDEMPOTENCY_TTL_HOURS): pruned every 10 minutes, a batch at a time; a failure waits for the next round.
const pruning = setInterval(() => {
  void pruneIdempotencyKeys((sql, values) => writeDb.query<ResultSetHeader>(sql, values, { safeToRepeat: true })).catch(() => undefined);
}, 10 * 60_000);
pruning.unref();

async function shutdown(): Promise<void> {
  clearInterval(pruning);
  server.close();
  // What is queued for Redis goes there before the instance does (bounded: a Redis that is away keeps it 5 s at most).
  await redisWriter.close();
  await Promise.allSettled([writeDb.end(), readDb.end()]);
  redis.close();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
