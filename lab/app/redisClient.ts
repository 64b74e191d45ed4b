import { Redis, type RedisOptions } from 'ioredis';
import { withNotificationCommands, type NotificationRedis } from '../../drivers/notificationStore.js';
import { withTimeout } from './timeout.js';

/** After a Redis command failed or ran over its budget, reads skip Redis for this long (they go to MariaDB). */
const FAILURE_HOLD_MS = 1000;
/** The watchdog pings this often, each ping with this budget; two misses in a row mean the primary went dark. */
const PROBE_EVERY_MS = 500;
const PROBE_BUDGET_MS = 500;

/**
 * Client options for the app: short timeouts everywhere, because a host that
 * lost power does not refuse, it hangs. A blackholed Sentinel costs one
 * connect timeout before the next one is asked.
 */
export function appRedisOptions(o: { sentinels: Array<{ host: string; port: number }>; name: string; password?: string; sentinelPassword?: string }): RedisOptions {
  return {
    sentinels: o.sentinels,
    name: o.name,
    password: o.password,
    sentinelPassword: o.sentinelPassword,
    connectTimeout: 500,
    sentinelCommandTimeout: 500,
    commandTimeout: 1000,
    // A dark primary never answers the FIN of disconnect(): destroy the socket soon instead of after 2 s.
    disconnectTimeout: 200,
    maxRetriesPerRequest: 2,
    enableAutoPipelining: true,
    // After a failover the old primary answers READONLY: reconnect through Sentinel (ioredis #144, #1835).
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  };
}

/**
 * The app's Redis connection through Sentinel, kept alive.
 *
 * ioredis 6.0.0 ends a Sentinel client for good ("Connection is closed.",
 * status `end`, no reconnect) when disconnect() is called while its
 * connector is still asking a Sentinel for the primary: the connector sees
 * it was told to stop and gives up (SentinelConnector.connect). A Sentinel
 * that lost power keeps that window open for a whole connect timeout, and
 * the old watchdog called disconnect() exactly then. So:
 * - the watchdog reconnects only a client that is `ready` (a socket to a
 *   primary that went dark); one that is connecting is left to ioredis;
 * - a client that ends anyway is replaced by a new one at once.
 */
export class SentinelRedis {
  private client: NotificationRedis;
  private closed = false;
  private failedAt = 0;
  private missedProbes = 0;
  private probing = false;
  private readonly watchdog: NodeJS.Timeout;
  /** Clients replaced because they ended (GET /monitor/stats). */
  replaced = 0;

  constructor(
    private readonly options: RedisOptions,
    private readonly log: (msg: string) => void = (msg) => process.stderr.write(`${new Date().toISOString()} ${msg}\n`),
  ) {
    this.client = this.create();
    this.watchdog = setInterval(() => void this.probe(), PROBE_EVERY_MS);
    this.watchdog.unref();
  }

  /** The client to use now: never one that has ended. */
  get current(): NotificationRedis {
    if (this.client.status === 'end' && !this.closed) this.replace();
    return this.client;
  }

  /** ioredis's status of the current client (`ready`, `connecting`, `reconnecting`, `end`, …). */
  get status(): string {
    return this.client.status;
  }

  /** Whether a request should try Redis now: connected, and nothing failed in the last second. */
  get usable(): boolean {
    return this.client.status === 'ready' && Date.now() - this.failedAt > FAILURE_HOLD_MS;
  }

  /** A command failed or ran over its budget: send reads to MariaDB for a moment. */
  noteFailure(): void {
    this.failedAt = Date.now();
  }

  /**
   * What the old watchdog did, made safe: a client that is `ready` is
   * reconnected through Sentinel; a client that is connecting is left alone.
   */
  reconnect(): void {
    if (this.client.status === 'ready') this.client.disconnect(true);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.watchdog);
    this.client.disconnect();
  }

  private create(): NotificationRedis {
    const client = withNotificationCommands(new Redis(this.options));
    client.on('error', () => {
      /* reconnects by itself; errors surface on the commands */
    });
    client.on('end', () => {
      if (!this.closed && client === this.client) this.replace();
    });
    return client;
  }

  private replace(): void {
    const dead = this.client;
    this.client = this.create();
    this.replaced++;
    this.log(`redis client ended (status ${dead.status}); replaced with a new one (${this.replaced} so far)`);
  }

  /** A primary that lost power hangs instead of refusing: after two missed pings, reconnect through Sentinel. */
  private async probe(): Promise<void> {
    if (this.probing || this.closed) return;
    const client = this.current;
    if (client.status !== 'ready') {
      this.missedProbes = 0;
      return;
    }
    this.probing = true;
    try {
      await withTimeout(client.ping(), PROBE_BUDGET_MS);
      this.missedProbes = 0;
    } catch {
      this.noteFailure();
      if (++this.missedProbes >= 2 && client === this.client) {
        this.missedProbes = 0;
        this.reconnect();
      }
    } finally {
      this.probing = false;
    }
  }
}
