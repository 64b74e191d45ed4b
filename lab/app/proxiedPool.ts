import { setTimeout as sleep } from 'node:timers/promises';
import { createPool, type Pool, type PoolConnection, type PoolOptions } from 'mysql2/promise';
import { DarkProxies } from './darkProxies.js';

/** Errors that mean "this proxy is gone", not "this query is wrong". */
const CONNECTION_ERRORS = new Set([
  'ECONNREFUSED', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH', 'EPIPE',
  'PROTOCOL_CONNECTION_LOST', 'PROTOCOL_SEQUENCE_TIMEOUT', 'ER_CON_COUNT_ERROR',
]);

export function isConnectionError(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code !== undefined && CONNECTION_ERRORS.has(code);
}

/** Marks an error raised before the statement left (no connection was had): the server never saw it. */
const NOT_SENT = Symbol('not sent');

function notSent(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as Record<symbol, unknown>)[NOT_SENT] === true;
}

/**
 * The server behind this connection became read-only (a switchover demoted
 * it). The connection stays bound to it through the proxy, so it must be
 * dropped, not reused (node-mysql2 #2050).
 */
export function isReadOnlyError(err: unknown): boolean {
  return (err as { code?: string }).code === 'ER_OPTION_PREVENTS_STATEMENT';
}

/** Runs one statement inside a transaction (same connection, same proxy). */
export type TransactionQuery = <T>(sql: string, values?: unknown[]) => Promise<T>;

export interface QueryOptions {
  /**
   * The statement may run twice (a SELECT, an UPDATE that sets a final
   * state): when it stalls on its proxy it is also sent through the next
   * one, and the first answer wins.
   */
  safeToRepeat?: boolean;
}

type Outcome<T> = { rows: T } | { error: unknown; triedAll: boolean };

function outcomeOf<T>(work: Promise<T>): Promise<Outcome<T>> {
  return work.then((rows) => ({ rows }), (error: unknown) => ({ error, triedAll: false }));
}

/** The first of two attempts to succeed; when both fail, the last failure (every proxy was tried). */
function firstSuccess<T>(a: Promise<Outcome<T>>, b: Promise<Outcome<T>>): Promise<Outcome<T>> {
  return new Promise((resolve) => {
    let failed = 0;
    for (const attempt of [a, b]) {
      void attempt.then((o) => {
        if ('rows' in o) resolve(o);
        else if (++failed === 2) resolve({ error: o.error, triedAll: true });
      });
    }
  });
}

/** A statement answers within this on a live proxy; longer is how a proxy that lost power looks at first. */
const STALL_MS = 150;
/**
 * START TRANSACTION does nothing yet, so when it stalls (a pooled connection
 * through a proxy that lost power) the transaction goes to the next proxy
 * after this, not after the query timeout.
 */
const BEGIN_TIMEOUT_MS = 2 * STALL_MS;

/**
 * A MySQL pool over several equivalent proxies (the seed used a virtual IP;
 * the lab gives clients both proxies instead). Queries go to the current
 * proxy; on a connection error the query is retried once on the next one,
 * which then stays current. Every query has a timeout, because a proxy that
 * lost power does not refuse: it hangs, and so do the pooled connections
 * through it, until the query timeout. So a statement that is safe to
 * repeat and stalls is also sent through the next proxy, and the stalled
 * proxy is suspected (DarkProxies, shared with the app's other pool): new
 * queries avoid it at once. A connection whose server turned read-only is
 * destroyed and the query retried once on a fresh connection.
 */
export class ProxiedPool {
  private readonly pools: Pool[];
  private current = 0;

  constructor(
    private readonly endpoints: Array<{ host: string; port: number }>,
    options: PoolOptions,
    private readonly dark = new DarkProxies(),
    private readonly queryTimeoutMs = 3000,
    makePool: (o: PoolOptions) => Pool = createPool,
  ) {
    this.pools = endpoints.map((e) =>
      makePool({ ...options, host: e.host, port: e.port, connectTimeout: 500, connectionLimit: 10, enableKeepAlive: true }),
    );
  }

  /** A connection, with an error that says so when none could be had (nothing was sent: any statement may go elsewhere). */
  private async connection(i: number): Promise<PoolConnection> {
    try {
      return await this.pools[i].getConnection();
    } catch (err) {
      if (typeof err === 'object' && err !== null) (err as Record<symbol, unknown>)[NOT_SENT] = true;
      throw err;
    }
  }

  /** The current proxy, moved past suspected ones while another is not suspected. */
  private pick(): number {
    for (let step = 0; step < this.pools.length; step++) {
      const i = (this.current + step) % this.pools.length;
      if (!this.dark.isSuspect(this.endpoints[i].host)) return (this.current = i);
    }
    return this.current;
  }

  private next(i: number): number {
    return (i + 1) % this.pools.length;
  }

  private async queryOn<T>(i: number, sql: string, values: unknown[]): Promise<T> {
    const conn = await this.connection(i);
    try {
      const [rows] = await conn.query({ sql, values, timeout: this.queryTimeoutMs });
      conn.release();
      this.dark.answered(this.endpoints[i].host);
      return rows as T;
    } catch (err) {
      conn.destroy(); // never hand a broken or demoted connection to the next query
      throw err;
    }
  }

  /** Runs on proxy `i`; if it has not answered within STALL_MS, also on the next proxy, first answer wins. */
  private async hedged<T>(i: number, sql: string, values: unknown[]): Promise<Outcome<T>> {
    const first = outcomeOf(this.queryOn<T>(i, sql, values));
    if (this.pools.length < 2) return first;
    const early = await Promise.race([first, sleep(STALL_MS).then(() => undefined)]);
    if (early) return early;
    this.dark.suspect(this.endpoints[i].host);
    this.current = this.next(i);
    return firstSuccess(first, outcomeOf(this.queryOn<T>(this.current, sql, values)));
  }

  async query<T>(sql: string, values: unknown[] = [], o: QueryOptions = {}): Promise<T> {
    const first = this.pick();
    const outcome = o.safeToRepeat ? await this.hedged<T>(first, sql, values) : await outcomeOf(this.queryOn<T>(first, sql, values));
    if ('rows' in outcome) return outcome.rows;
    const err = outcome.error;
    if (isReadOnlyError(err)) {
      // The proxy may still route to the demoted server for a moment: give its check time.
      await sleep(500);
      return this.queryOn<T>(this.current, sql, values);
    }
    if (!isConnectionError(err) || this.pools.length < 2 || outcome.triedAll) throw err;
    // A statement the server may have run (an INSERT with no key) is not sent twice: the caller gets the error.
    if (!o.safeToRepeat && !notSent(err)) throw err;
    this.current = this.next(first);
    return this.queryOn<T>(this.current, sql, values);
  }

  /**
   * Runs `work` in one transaction on one connection, committed at the end.
   * Retried whole once, on the next proxy, after a connection error: only
   * for work the caller says is safe to run twice (an insert guarded by a
   * unique key), since a lost COMMIT answer leaves unknown whether the first
   * run landed, or when no connection was had at all.
   */
  async transaction<T>(work: (query: TransactionQuery) => Promise<T>, o: QueryOptions = {}): Promise<T> {
    const first = this.pick();
    try {
      return await this.transactionOn(first, work);
    } catch (err) {
      if (isReadOnlyError(err)) {
        await sleep(500);
        return this.transactionOn(this.current, work);
      }
      if (!isConnectionError(err) || this.pools.length < 2) throw err;
      if (!o.safeToRepeat && !notSent(err)) throw err;
      this.dark.suspect(this.endpoints[first].host);
      this.current = this.next(first);
      return this.transactionOn(this.current, work);
    }
  }

  private async transactionOn<T>(i: number, work: (query: TransactionQuery) => Promise<T>): Promise<T> {
    const conn: PoolConnection = await this.connection(i);
    const query: TransactionQuery = async <R>(sql: string, values: unknown[] = []) => {
      const [rows] = await conn.query({ sql, values, timeout: this.queryTimeoutMs });
      return rows as R;
    };
    try {
      await conn.query({ sql: 'START TRANSACTION', timeout: BEGIN_TIMEOUT_MS });
      const result = await work(query);
      await query('COMMIT');
      conn.release();
      this.dark.answered(this.endpoints[i].host);
      return result;
    } catch (err) {
      // A clean rollback keeps the connection; after anything else it is not to be trusted.
      const rolledBack = !isConnectionError(err) && (await query('ROLLBACK').then(() => true, () => false));
      if (rolledBack) conn.release();
      else conn.destroy();
      throw err;
    }
  }

  async end(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.end()));
  }
}
