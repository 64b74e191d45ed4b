import { setTimeout as sleep } from 'node:timers/promises';
import type { Connection, RowDataPacket } from 'mysql2/promise';

/**
 * InnoDB buffer pool: what it holds and its hit counters (through SQL), and a
 * load of a chosen page list with
 * MariaDB's own loader (innodb_buffer_pool_load_now), which reads pages in
 * sorted batches, far faster than queries that touch the same pages.
 */

/** A page named by its tablespace ("notifications/notification") and page number: the same on a physical clone. */
export interface PageRef {
  tablespace: string;
  page: number;
}

export const pageKey = (p: PageRef) => `${p.tablespace}#${p.page}`;

/** The pages of user tables this server's buffer pool holds (system schemas left out). */
export async function poolPages(conn: Connection): Promise<PageRef[]> {
  const [rows] = await conn.query<RowDataPacket[]>(
    `SELECT t.NAME AS name, b.PAGE_NUMBER AS page
       FROM information_schema.INNODB_BUFFER_PAGE b JOIN information_schema.INNODB_SYS_TABLESPACES t ON t.SPACE = b.SPACE
      WHERE t.NAME NOT LIKE 'mysql/%' AND t.NAME NOT LIKE 'sys/%' AND t.NAME LIKE '%/%'`,
  );
  return rows.map((r) => ({ tablespace: String(r.name), page: Number(r.page) }));
}

export interface Tablespace {
  space: number;
  /** Pages in its file now: a page number past this cannot be loaded. */
  pages: number;
}

export async function tablespaces(conn: Connection): Promise<Map<string, Tablespace>> {
  const [rows] = await conn.query<RowDataPacket[]>('SELECT NAME AS name, SPACE AS space, FILE_SIZE AS size, PAGE_SIZE AS pageSize FROM information_schema.INNODB_SYS_TABLESPACES');
  return new Map(rows.map((r) => [String(r.name), { space: Number(r.space), pages: Math.floor(Number(r.size) / Number(r.pageSize || 16384)) }]));
}

export interface PoolCounters {
  readRequests: number;
  /** Reads that missed the pool and went to disk. */
  diskReads: number;
  pagesData: number;
  pagesTotal: number;
  loadStatus: string;
}

export async function poolCounters(conn: Connection): Promise<PoolCounters> {
  const [rows] = await conn.query<RowDataPacket[]>(
    "SHOW GLOBAL STATUS WHERE Variable_name IN ('Innodb_buffer_pool_read_requests','Innodb_buffer_pool_reads','Innodb_buffer_pool_pages_data','Innodb_buffer_pool_pages_total','Innodb_buffer_pool_load_status')",
  );
  const v = Object.fromEntries(rows.map((r) => [String(r.Variable_name), String(r.Value)]));
  return {
    readRequests: Number(v.Innodb_buffer_pool_read_requests ?? 0),
    diskReads: Number(v.Innodb_buffer_pool_reads ?? 0),
    pagesData: Number(v.Innodb_buffer_pool_pages_data ?? 0),
    pagesTotal: Number(v.Innodb_buffer_pool_pages_total ?? 0),
    loadStatus: v.Innodb_buffer_pool_load_status ?? '',
  };
}

/** Hit rate over a window, from counter deltas (never the cumulative counters); undefined when too few reads to say. */
export function hitRate(before: PoolCounters, after: PoolCounters, minRequests = 1000): number | undefined {
  const requests = after.readRequests - before.readRequests;
  if (requests < minRequests) return undefined;
  return 1 - (after.diskReads - before.diskReads) / requests;
}

/** "Loaded 120/2048 pages" (MariaDB's load status) -> the two numbers. */
export function parseLoadStatus(status: string): { loaded: number; wanted: number } | undefined {
  const m = /Loaded (\d+)\/(\d+) pages/.exec(status);
  return m ? { loaded: Number(m[1]), wanted: Number(m[2]) } : undefined;
}

async function statusOf(conn: Connection, name: string): Promise<string> {
  const [[row]] = await conn.query<RowDataPacket[]>('SHOW GLOBAL STATUS LIKE ?', [name]);
  return String(row?.Value ?? '');
}

/**
 * Dump and load statuses end in "completed at <second>": a second one that
 * ends within the same second would read exactly as the first. Starting no
 * sooner than a second after the last one makes the new one tell apart.
 */
async function startInANewSecond(conn: Connection, name: string): Promise<string> {
  const before = await statusOf(conn, name);
  if (/completed/i.test(before)) await sleep(1050);
  return before;
}

export interface LoadProgress {
  loaded: number;
  wanted: number;
}

/** Writes the page list InnoDB's loader reads (<datadir>/ib_buffer_pool, "space,page" lines), on the db host itself. */
export type PoolListWriter = (text: string) => Promise<void>;

/**
 * Loads these pages (space ids of this server) with InnoDB's own loader: the
 * list is written where the loader reads it (MariaDB's
 * innodb_buffer_pool_filename cannot be changed while it runs), then
 * innodb_buffer_pool_load_now. The host's own dump is overwritten: the
 * next periodic dump, or a clean shutdown, writes it again.
 */
export async function loadPages(
  conn: Connection,
  pages: Array<{ space: number; page: number }>,
  writeList: PoolListWriter,
  opts: { signal?: AbortSignal; onProgress?: (p: LoadProgress) => void | Promise<void>; pollMs?: number } = {},
): Promise<LoadProgress> {
  await writeList(pages.map((p) => `${p.space},${p.page}\n`).join(''));
  const before = await statusOf(conn, 'Innodb_buffer_pool_load_status');
  await conn.query('SET GLOBAL innodb_buffer_pool_load_now = ON');
  const startedAt = Date.now();
  let last: LoadProgress = { loaded: 0, wanted: pages.length };
  let sawItRun = false;
  // The loader reports "Loading…" / "Loaded n/m pages" while it runs, then "completed at <second>". A load
  // that ends in the second the last one ended reads exactly as that one did: it is told apart by having
  // been seen running (polled fast at first), or, failing that, by the same string a second later (a load
  // that ended in a later second would say so).
  for (;;) {
    if (opts.signal?.aborted) {
      await conn.query('SET GLOBAL innodb_buffer_pool_load_abort = ON');
      throw opts.signal.reason ?? new Error('aborted');
    }
    const loadStatus = await statusOf(conn, 'Innodb_buffer_pool_load_status');
    const p = parseLoadStatus(loadStatus);
    if (p) last = p;
    if (!/completed/i.test(loadStatus)) sawItRun = true;
    const ours = loadStatus !== before || sawItRun || Date.now() - startedAt > 1100;
    if (/load completed/i.test(loadStatus) && ours) return { loaded: last.wanted, wanted: last.wanted };
    if (/aborted|error|cannot|failed/i.test(loadStatus) && loadStatus !== before) throw new Error(`InnoDB's loader stopped: ${loadStatus}`);
    await opts.onProgress?.(last);
    await sleep(opts.pollMs ?? (Date.now() - startedAt < 1000 ? 5 : 200));
  }
}

/** Asks the server to dump its buffer pool now (the periodic job), and waits until the dump is written. */
export async function dumpNow(conn: Connection, timeoutMs = 60_000): Promise<string> {
  const before = await startInANewSecond(conn, 'Innodb_buffer_pool_dump_status');
  await conn.query('SET GLOBAL innodb_buffer_pool_dump_now = ON');
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await statusOf(conn, 'Innodb_buffer_pool_dump_status');
    if (/dump completed/i.test(status) && status !== before) return status;
    if (Date.now() > deadline) throw new Error(`the buffer-pool dump did not finish in ${timeoutMs / 1000} s: ${status}`);
    await sleep(100);
  }
}
