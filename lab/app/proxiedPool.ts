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
 * The server behind this connection became read-only (a switchover demoted
 * it). The connection stays bound to it through the proxy, so it must be
 * dropped, not reused (node-mysql2 #2050).
 */
export function isReadOnlyError(err: unknown): boolean {
  return (err as { code?: string }).code === 'ER_OPTION_PREVENTS_STATEMENT';
}

/**
 * A MySQL pool over several equivalent proxies (the seed used a virtual IP;
 * the lab gives clients both proxies instead). Queries go to the current
 * proxy; on a connection error the query is retried once on the next one,
 * which then stays current. Every query has a timeout, because a proxy that
 * lost power does not refuse: it hangs. A connection whose server turned
 * read-only is destroyed and the query retried once on a fresh connection.
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

  private async queryOn<T>(pool: Pool, sql: string, values: unknown[]): Promise<T> {
    const conn = await pool.getConnection();
    try {
      const [rows] = await conn.query({ sql, values, timeout: this.queryTimeoutMs });
      conn.release();
      return rows as T;
    } catch (err) {
      conn.destroy(); // never hand a broken or demoted connection to the next query
      throw err;
    }
  }

  async query<T>(sql: string, values: unknown[] = []): Promise<T> {
    const first = this.current;
    try {
      return await this.queryOn<T>(this.pools[first], sql, values);
    } catch (err) {
      if (isReadOnlyError(err)) {
        // The proxy may still route to the demoted server for a moment: give its check time.
        await new Promise((r) => setTimeout(r, 500));
        return this.queryOn<T>(this.pools[this.current], sql, values);
      }
      if (!isConnectionError(err) || this.pools.length < 2) throw err;
      this.current = (first + 1) % this.pools.length;
      return this.queryOn<T>(this.pools[this.current], sql, values);
    }
  }

  async end(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end()));
  }
}
