import type { Connection, RowDataPacket } from 'mysql2/promise';
import type { Host, Inventory, Pool } from '../../topology/index.js';
import type { MysqlConnector } from '../../drivers/mysql/readiness.js';
import { sampleEvery } from './sampleLoop.js';
import { connectWithin, within } from './deadline.js';

/**
 * The read-marker probe behind no-stale-reads: every interval it writes a
 * numbered marker through a proxy's write frontend (`mysql-write`) and reads
 * the newest marker back through every proxy's read frontend (`mysql-read`),
 * on a new connection each time, as a new client would be placed. A read
 * that returns a marker older than one acknowledged long enough before it
 * was a stale read, whatever the heartbeat or the health agent said.
 *
 * The table (the lab makes it; on a fleet, make it once, see docs/game-days.md):
 *   CREATE TABLE gameday.read_markers (run VARCHAR(64) NOT NULL, seq INT NOT NULL,
 *     at DATETIME(6) NOT NULL, PRIMARY KEY (run, seq)) ENGINE=InnoDB
 */
export const READ_MARKERS_TABLE = 'gameday.read_markers';

/** How the probe reaches a proxy's MariaDB frontend (`service` is mysql-write or mysql-read). */
export type PoolConnector = (proxy: Host, service: 'mysql-write' | 'mysql-read') => Promise<Connection>;

/** One marker written through the write pool: acked when the INSERT returned. */
export interface MarkerWrite {
  seq: number;
  sentAt: number;
  ackedAt?: number;
  /** The proxy it went through. */
  via: string;
}

/**
 * One read through a proxy's read pool: `read` with the newest marker seen
 * (0: none yet) and the server that answered; `refused` when the proxy
 * answered that it has no server to send the read to (observed: nothing
 * was served); `unknown` when it did not answer in time (nothing observed).
 */
export type MarkerRead = { outcome: 'read'; seq: number; server: string; ms: number } | { outcome: 'refused'; ms: number; error: string } | { outcome: 'unknown'; ms: number; error: string };

/** One round of the probe: the reads through every proxy that has a read frontend. */
export interface MarkerSample {
  at: number;
  reads: Record<string, MarkerRead>;
}

/** What the probe leaves for the check. */
export interface ReadMarkerRecord {
  run: string;
  intervalMs: number;
  writes: MarkerWrite[];
  samples: MarkerSample[];
  /** The markers the writable primary holds at the end (the others were lost with a primary); null when it could not be read. */
  survived: number[] | null;
  /** Why the markers could not be read back, or the last write error (for the report). */
  error?: string;
}

/** The read pools of MariaDB replicas: pools named for reads that list a db host. */
export function mariadbReadPools(inv: Inventory): Pool[] {
  return inv.pools.filter((p) => /read/i.test(p.name) && p.servers.some((s) => inv.hosts.some((h) => h.name === s && 'mysql' in h.services)));
}

/** The proxies of the MariaDB read pools: each one's read frontend (mysql-read) is read through; a proxy without one is never read, so the check cannot see it. */
export function readProxies(inv: Inventory): Host[] {
  const names = new Set(mariadbReadPools(inv).flatMap((p) => p.proxies));
  return inv.hosts.filter((h) => names.has(h.name));
}

/** Proxies with a write frontend (mysql-write): the markers go through them. */
export function writeProxies(inv: Inventory): Host[] {
  return inv.hosts.filter((h) => h.services['mysql-write'] !== undefined);
}

/**
 * A proxy that accepts the connection and closes it before MariaDB's
 * greeting has no server for it (HAProxy in TCP mode with an empty pool):
 * an observation, unlike a timeout. A refused connect is not: nothing
 * listens there (a dead proxy, a wrong port), so nothing was observed.
 */
const isRefusal = (err: unknown) => /ECONNRESET|PROTOCOL_CONNECTION_LOST|Connection lost/i.test(`${(err as NodeJS.ErrnoException).code ?? ''} ${(err as Error).message ?? ''}`);

/** server_id -> host name of every db host that answers (the read says which server served it). */
async function serverIds(inv: Inventory, admin: MysqlConnector): Promise<Map<number, string>> {
  const ids = new Map<number, string>();
  await Promise.all(
    inv.hosts
      .filter((h) => 'mysql' in h.services)
      .map(async (h) => {
        try {
          const c = await connectWithin(() => admin(h.name), 3000);
          try {
            const [[row]] = await within(c.query<RowDataPacket[]>('SELECT @@server_id AS id'), 3000);
            ids.set(Number(row.id), h.name);
          } finally {
            c.destroy();
          }
        } catch {
          /* unnamed: its reads show the server_id */
        }
      }),
  );
  return ids;
}

/**
 * Starts the probe: one marker write and one read per read frontend every
 * `intervalMs`; `stop()` reads back which markers survived and removes the
 * run's markers.
 */
export async function startReadMarkers(inv: Inventory, pools: PoolConnector, admin: MysqlConnector, run: string, intervalMs = 100): Promise<{ stop(): Promise<ReadMarkerRecord> }> {
  const proxies = readProxies(inv);
  const writers = writeProxies(inv);
  const names = await serverIds(inv, admin);
  const timeoutMs = Math.max(250, Math.floor(intervalMs * 0.8));
  const writes: MarkerWrite[] = [];
  let error: string | undefined;
  let writer: { conn: Connection; via: string } | undefined;
  let nextProxy = 0;
  let seq = 0;

  // Writes go through one proxy until it fails, then the next: as an app with two proxies does.
  const writeMarker = async () => {
    const w: MarkerWrite = { seq: ++seq, sentAt: Date.now(), via: '' };
    writes.push(w);
    try {
      if (!writer) {
        if (writers.length === 0) throw new Error('no proxy has a mysql-write frontend');
        const proxy = writers[nextProxy++ % writers.length];
        writer = { conn: await connectWithin(() => pools(proxy, 'mysql-write'), timeoutMs), via: proxy.name };
      }
      w.via = writer.via;
      await within(writer.conn.query(`INSERT INTO ${READ_MARKERS_TABLE} (run, seq, at) VALUES (?, ?, NOW(6))`, [run, w.seq]), timeoutMs);
      w.ackedAt = Date.now();
    } catch (err) {
      error = `marker write: ${(err as Error).message}`;
      writer?.conn.destroy();
      writer = undefined;
    }
  };

  const readMarker = async (proxy: Host): Promise<MarkerRead> => {
    const t0 = Date.now();
    let conn: Connection | undefined;
    try {
      if (proxy.services['mysql-read'] === undefined) throw new Error(`${proxy.name} has no mysql-read service in the inventory`);
      conn = await connectWithin(() => pools(proxy, 'mysql-read'), timeoutMs);
      const [[row]] = await within(conn.query<RowDataPacket[]>(`SELECT COALESCE(MAX(seq), 0) AS seq, @@server_id AS sid FROM ${READ_MARKERS_TABLE} WHERE run = ?`, [run]), timeoutMs);
      const sid = Number(row.sid);
      return { outcome: 'read', seq: Number(row.seq), server: names.get(sid) ?? `server_id ${sid}`, ms: Date.now() - t0 };
    } catch (err) {
      const ms = Date.now() - t0;
      return isRefusal(err) && ms < timeoutMs ? { outcome: 'refused', ms, error: (err as Error).message } : { outcome: 'unknown', ms, error: (err as Error).message };
    } finally {
      conn?.destroy();
    }
  };

  const loop = sampleEvery<MarkerSample>(
    intervalMs,
    async (at) => {
      const [, reads] = await Promise.all([writeMarker(), Promise.all(proxies.map(readMarker))]);
      return { at, reads: Object.fromEntries(proxies.map((p, i) => [p.name, reads[i]])) };
    },
    proxies.length > 0,
  );

  return {
    async stop() {
      const samples = await loop.stop();
      writer?.conn.destroy();
      const back = await readBack(writers, pools, run, timeoutMs * 4);
      return { run, intervalMs, writes, samples, survived: back.survived, ...(back.error ?? error ? { error: back.error ?? error } : {}) };
    },
  };
}

/** The run's markers as the writable primary holds them (through the write pool), then removed. */
async function readBack(proxies: Host[], pools: PoolConnector, run: string, timeoutMs: number): Promise<{ survived: number[] | null; error?: string }> {
  let last = 'no proxy has a mysql-write frontend';
  for (const proxy of proxies) {
    let conn: Connection | undefined;
    try {
      conn = await connectWithin(() => pools(proxy, 'mysql-write'), timeoutMs);
      const [rows] = await within(conn.query<RowDataPacket[]>(`SELECT seq FROM ${READ_MARKERS_TABLE} WHERE run = ?`, [run]), timeoutMs);
      await within(conn.query(`DELETE FROM ${READ_MARKERS_TABLE} WHERE run = ?`, [run]), timeoutMs).catch(() => undefined);
      return { survived: rows.map((r) => Number(r.seq)) };
    } catch (err) {
      last = `reading the markers back through ${proxy.name}: ${(err as Error).message}`;
    } finally {
      conn?.destroy();
    }
  }
  return { survived: null, error: last };
}
