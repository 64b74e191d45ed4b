import type { Connection, RowDataPacket } from 'mysql2/promise';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadPages, pageKey, poolPages, tablespaces, type LoadProgress, type PageRef, type PoolListWriter, type Tablespace } from '../../drivers/mysql/bufferPool.js';

/**
 * Buffer-pool warm-up of a db host from a warm peer. The peer's hot set is
 * the pages of user tables its pool holds, named by tablespace and page
 * number. On a physical clone (mariabackup) and on a replica that applied the
 * same row events into the same empty tables, a page number holds the same
 * rows; the load maps tablespaces by name (their ids differ between servers)
 * and InnoDB's own loader reads them. What the load could not reach (tables
 * the host lacks, pages past a file's end, pages whose content differs) is
 * left to scans of the peer's hottest indexes.
 */

export interface Coverage {
  /** Pages of the hot set this pool holds too. */
  covered: number;
  wanted: number;
  /** covered / wanted, 0..1 (1 when the hot set is empty). */
  fraction: number;
}

export function coverage(hot: readonly PageRef[], held: readonly PageRef[]): Coverage {
  const have = new Set(held.map(pageKey));
  const covered = hot.filter((p) => have.has(pageKey(p))).length;
  return { covered, wanted: hot.length, fraction: hot.length === 0 ? 1 : covered / hot.length };
}

export interface PageMapping {
  /** In this host's space ids, sorted (the loader reads in order). */
  pages: Array<{ space: number; page: number }>;
  alreadyHeld: number;
  /** Hot pages of tables this host does not have. */
  noSuchTable: number;
  /** Hot pages past the end of this host's file of the same table: not a physical copy. */
  pastEnd: number;
  /** Tables named by the hot set that this host lacks (at most 10). */
  missingTables: string[];
}

/** The peer's hot pages this host lacks, in this host's space ids; says what cannot be mapped. */
export function mapHotSet(hot: readonly PageRef[], target: Map<string, Tablespace>, held: readonly PageRef[]): PageMapping {
  const have = new Set(held.map(pageKey));
  const out: PageMapping = { pages: [], alreadyHeld: 0, noSuchTable: 0, pastEnd: 0, missingTables: [] };
  for (const p of hot) {
    const ts = target.get(p.tablespace);
    if (!ts) {
      out.noSuchTable++;
      if (out.missingTables.length < 10 && !out.missingTables.includes(p.tablespace)) out.missingTables.push(p.tablespace);
    } else if (p.page >= ts.pages) out.pastEnd++;
    else if (have.has(pageKey(p))) out.alreadyHeld++;
    else out.pages.push({ space: ts.space, page: p.page });
  }
  out.pages.sort((a, b) => a.space - b.space || a.page - b.page);
  return out;
}

export interface WarmProgress {
  loaded: number;
  wanted: number;
  pagesPerS: number;
}

/**
 * Loads the mapped pages: all at once while the host is fenced; in chunks
 * of `servingRate` pages a second once it serves (a load never competes
 * with live traffic at full speed). `serving` is asked before every chunk.
 */
export async function loadMapped(
  conn: Connection,
  pages: PageMapping['pages'],
  opts: { writeList: PoolListWriter; servingRate: number; serving: () => Promise<boolean>; signal?: AbortSignal; onProgress?: (p: WarmProgress) => void | Promise<void> },
): Promise<WarmProgress> {
  const started = Date.now();
  let done = 0;
  const report = async (inChunk: LoadProgress) => {
    const loaded = done + inChunk.loaded;
    await opts.onProgress?.({ loaded, wanted: pages.length, pagesPerS: Math.round(loaded / Math.max(0.001, (Date.now() - started) / 1000)) });
  };
  while (done < pages.length) {
    const serving = await opts.serving();
    const size = serving ? Math.max(1, opts.servingRate) : pages.length - done;
    const chunkStarted = Date.now();
    const chunk = pages.slice(done, done + size);
    await loadPages(conn, chunk, opts.writeList, { signal: opts.signal, onProgress: report });
    done += chunk.length;
    await report({ loaded: 0, wanted: chunk.length });
    if (serving && done < pages.length) await sleep(Math.max(0, 1000 - (Date.now() - chunkStarted)), undefined, { signal: opts.signal });
  }
  return { loaded: done, wanted: pages.length, pagesPerS: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) };
}

/** The indexes the peer holds most pages of, hottest first: what scans warm when pages cannot be mapped. */
export async function hotIndexes(peer: Connection, limit = 20): Promise<Array<{ table: string; index: string; pages: number }>> {
  const [rows] = await peer.query<RowDataPacket[]>(
    `SELECT TABLE_NAME AS t, INDEX_NAME AS i, COUNT(*) AS n FROM information_schema.INNODB_BUFFER_PAGE
      WHERE TABLE_NAME LIKE '\`%\`.\`%\`' AND INDEX_NAME IS NOT NULL AND TABLE_NAME NOT LIKE '\`mysql\`.%' AND TABLE_NAME NOT LIKE '\`sys\`.%'
      GROUP BY TABLE_NAME, INDEX_NAME ORDER BY n DESC LIMIT ?`,
    [limit],
  );
  // TABLE_NAME reads `db`.`table` for user tables (InnoDB's own, such as SYS_FOREIGN, have no schema:
  // scanning one failed with "No database selected"); INDEX_NAME is the bare index name.
  return rows.map((r) => ({ table: String(r.t), index: String(r.i), pages: Number(r.n) }));
}

/** Reads a whole index through the server, so its pages come into the pool (the last resort: slower than the loader). */
export async function scanIndex(conn: Connection, table: string, index: string): Promise<void> {
  const quoted = index.replace(/`/g, '``');
  await conn.query(`SELECT COUNT(*) FROM ${table} FORCE INDEX (\`${quoted}\`)`);
}

export { poolPages, tablespaces };
