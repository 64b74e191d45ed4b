import { createPool, type Pool, type PoolOptions } from 'mysql2/promise';

/** Errors that mean "this proxy is gone", not "this query is wrong". */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR',
]);

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code !== undefined && CONNECTION_ERRORS.has(code);
}

/**
 * A MySQL pool over several equivalent proxies (the seed used a virtual IP;
 * the lab gives clients both proxies instead). Queries go to the current
 * proxy; on a connection error the query is retried once on the next one,
 * which then stays current. Every query has a timeout, because a proxy that
 * lost power does not refuse: it hangs.
 */
export class ProxiedPool {
  private readonly pools: Pool[];
  private current = 0;

  constructor(
    endpoints: Array<{ host: string; port: number }>,
    options: PoolOptions,
    private readonly queryTimeoutMs = 3000,
  ) {
    this.pools = endpoints.map((e) =>
      createPool({ ...options, host: e.host, port: e.port, connectTimeout: 1000, connectionLimit: 10, enableKeepAlive: true }),
    );
  }

  async query<T>(sql: string, values: unknown[] = []): Promise<T> {
    const first = this.current;
    try {
      const [rows] = await this.pools[first].query({ sql, values, timeout: this.queryTimeoutMs });
      return rows as T;
    } catch (err) {
      if (!isConnectionError(err) || this.pools.length < 2) throw err;
      this.current = (first + 1) % this.pools.length;
      const [rows] = await this.pools[this.current].query({ sql, values, timeout: this.queryTimeoutMs });
      return rows as T;
    }
  }

  async end(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end()));
  }
}
