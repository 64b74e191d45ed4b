/**
 * The reference notification center, one instance. Usage: main.ts <config.json>
 * Reaches Redis through Sentinel and MariaDB through the proxies' write and read pools.
 */
import { Redis } from 'ioredis';
import { readAppConfig } from './config.js';
import { ProxiedPool } from './proxiedPool.js';
import { NotificationService } from './notifications.js';
import { RedisWriter } from './redisWriter.js';
import { withNotificationCommands } from '../../drivers/notificationStore.js';
import { notificationServer } from './server.js';

const config = readAppConfig(process.argv[2]);

const redis = withNotificationCommands(new Redis({
  sentinels: config.sentinels,
  name: config.sentinelMasterName,
  password: config.redisPassword,
  sentinelPassword: config.sentinelPassword,
  connectTimeout: 1000,
  commandTimeout: 1000,
  maxRetriesPerRequest: 2,
  enableAutoPipelining: true,
  // After a failover the old primary answers READONLY: reconnect through Sentinel (ioredis #144, #1835).
  reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
}));
redis.on('error', () => {
  /* reconnects by itself; errors surface on the commands */
});

// A primary that lost power hangs instead of refusing: after repeated timeouts, reconnect through Sentinel.
let timeouts = 0;
const probe = setInterval(() => {
  redis.ping().then(
    () => (timeouts = 0),
    () => {
      if (++timeouts >= 2) {
        timeouts = 0;
        redis.disconnect(true);
      }
    },
  );
}, 1000);
probe.unref();

const dbOptions = { user: config.db.user, password: config.db.password, database: config.db.database, dateStrings: false as const };
const writeDb = new ProxiedPool(config.proxies.map((p) => ({ host: p.host, port: p.writePort })), dbOptions);
const readDb = new ProxiedPool(config.proxies.map((p) => ({ host: p.host, port: p.readPort })), dbOptions);

const redisWriter = new RedisWriter(redis);
const service = new NotificationService(writeDb, readDb, redis, redisWriter);
const server = notificationServer(service, config.l7checkToken, config.name, () => ({ redisWrites: redisWriter.stats() }));
server.listen(config.listen.port, config.listen.host);

async function shutdown(): Promise<void> {
  server.close();
  clearInterval(probe);
  redisWriter.close();
  await Promise.allSettled([writeDb.end(), readDb.end()]);
  redis.disconnect();
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown());
process.on('SIGINT', () => void shutdown());
