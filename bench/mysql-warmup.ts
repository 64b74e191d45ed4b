/**
 * Buffer-pool warm-up of a replica after a power loss, against the ideal, in
 * one run on one lab (both replicas warmed by the same skewed read load):
 *   the ideal  MariaDB's own innodb_buffer_pool_load_now from a fresh dump of
 *              the same host (dump_pct 100, taken just before the power loss:
 *              what a clean shutdown would have left)
 *   gameday    `gameday warmup mysql db-2 --from db-3` with no dump of its own
 *              (a power loss long after the last one), end to end through the CLI
 * Both start from the same cold, fenced db-2. The ideal's figure is the time
 * until db-2 holds 95 % of the pages of its own dump; gameday's, until it
 * holds 95 % of db-3's hot pages (polled every 50 ms), from the start of the
 * load step and end to end through the CLI; the ratio is gameday / ideal
 * (goal: at most 1.5).
 *
 * Then the read latency through db-2 once it is back (the first reads of the
 * same skewed load, as a ramp's first step sees them): p99 after gameday's
 * warm-up against p99 cold (no warm-up), both against its warm p99 before the
 * power loss (goal: warmed at most 2x warm).
 *
 * Usage: node --import tsx bench/mysql-warmup.ts [reads per sample, default 3000] [rounds, default 3]
 * A lab of its own on 127.36.x.y, taken down at the end.
 */
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import type { Connection } from 'mysql2/promise';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { powerOff, powerOn } from '../lab/power.js';
import { mariadbPaths } from '../lab/configs/mariadb.js';
import { haproxyPaths } from '../lab/configs/haproxy.js';
import { rootConnection } from '../lab/bootstrap.js';
import { setServerState } from '../drivers/haproxy/runtime.js';
import { dumpNow, poolPages } from '../drivers/mysql/bufferPool.js';
import { coverage } from '../warmup/mysql/hotSet.js';

const readsPerSample = Number(process.argv[2] ?? 3000);
const rounds = Number(process.argv[3] ?? 3);
const GAMEDAY = fileURLToPath(new URL('../bin/gameday.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'gameday-bench-warmup-'));
chmodSync(root, 0o711); // MariaDB runs as mysql and must reach the lab
const dir = join(root, 'lab');
const lab = await labUp({ dir, octet: 36 });
const users = lab.state.seed.users;
const dumpFile = join(mariadbPaths(lab, lab.host('db-2')).datadir, 'ib_buffer_pool');
const freshDump = join(root, 'fresh-dump');

const connect = (host: string) => rootConnection(lab, lab.host(host));
const fence = (state: 'maint' | 'ready') => Promise.all(lab.hostsOf('proxy').map((p) => setServerState(haproxyPaths(lab, p).socket, 'db_read', 'db-2', state)));

/** A skewed read load, as notification lists are: 90 % of reads go to the hottest 10 % of users. */
function nextUser(): number {
  const hot = Math.max(1, Math.floor(users / 10));
  return Math.random() < 0.9 ? 1 + Math.floor(Math.random() * hot) : 1 + Math.floor(Math.random() * users);
}

/** The app's list query from MariaDB, `n` times; each read's latency in ms. */
async function reads(conn: Connection, n: number): Promise<number[]> {
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await conn.query('SELECT * FROM notifications.notifications WHERE user_id = ? ORDER BY created_at DESC, id DESC LIMIT 50', [nextUser()]);
    ms.push(performance.now() - t0);
  }
  return ms;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)];
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function hotShare(): Promise<number> {
  const [peer, host] = await Promise.all([connect('db-3'), connect('db-2')]);
  try {
    return coverage(await poolPages(peer), await poolPages(host)).fraction;
  } finally {
    await Promise.all([peer.end(), host.end()]);
  }
}

/** Polls until db-2 holds 95 % of db-3's hot pages; the ms since `t0`. */
async function timeTo95(t0: number, limitMs = 120_000): Promise<number> {
  while (Date.now() - t0 < limitMs) {
    if ((await hotShare()) >= 0.95) return Date.now() - t0;
    await sleep(50);
  }
  throw new Error('db-2 never reached 95 % of the hot pages');
}

/** The ms from `t0` until MariaDB says this load completed (`before`: the status left by the start-up, "Cannot open": no dump then). */
async function loadCompleted(conn: Connection, t0: number, before: string): Promise<number> {
  for (;;) {
    const [[row]] = await conn.query<any[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'");
    if (String(row.Value) === before) {
      await sleep(5);
      continue;
    }
    if (/load completed/i.test(String(row.Value))) return Date.now() - t0;
    if (/cannot|error|aborted/i.test(String(row.Value)) || Date.now() - t0 > 120_000) throw new Error(`the ideal load did not complete: ${row.Value}`);
    await sleep(10);
  }
}

/** The ms from `t0` until db-2 holds 95 % of the pages of a dump ("space,page" lines). */
async function timeToOwn95(conn: Connection, lines: string[], t0: number): Promise<number> {
  const want = new Set(lines);
  while (Date.now() - t0 < 120_000) {
    const [rows] = await conn.query<any[]>('SELECT SPACE AS s, PAGE_NUMBER AS p FROM information_schema.INNODB_BUFFER_PAGE');
    const held = rows.filter((r) => want.has(`${r.s},${r.p}`)).length;
    if (held >= 0.95 * want.size) return Date.now() - t0;
    await sleep(20);
  }
  throw new Error('db-2 never held 95 % of its own dump');
}

/** db-2 loses power, fenced (maint) and without a dump of its own, then is powered on: cold. */
async function coldDb2(): Promise<void> {
  await fence('maint');
  await powerOff(lab, 'db-2');
  rmSync(dumpFile, { force: true });
  await powerOn(lab, 'db-2');
}

async function warmBoth(): Promise<number[]> {
  const [a, b] = await Promise.all([connect('db-2'), connect('db-3')]);
  try {
    const [ms] = await Promise.all([reads(a, readsPerSample * 4), reads(b, readsPerSample * 4)]);
    return ms.slice(-readsPerSample);
  } finally {
    await Promise.all([a.end(), b.end()]);
  }
}

async function firstReadsOnDb2(): Promise<number[]> {
  await fence('ready');
  const c = await connect('db-2');
  try {
    return await reads(c, readsPerSample);
  } finally {
    await c.end();
  }
}

const ideal: number[] = [];
const idealShare: number[] = [];
const ours: number[] = [];
const oursLoad: number[] = [];
const warmP99: number[] = [];
const warmedP99: number[] = [];
const coldP99: number[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    warmP99.push(p99(await warmBoth()));

    // The ideal: a fresh dump of db-2 itself, loaded by MariaDB into the cold pool.
    const c = await connect('db-2');
    await c.query('SET GLOBAL innodb_buffer_pool_dump_pct = 100');
    await dumpNow(c);
    await c.end();
    copyFileSync(dumpFile, freshDump);
    await coldDb2();
    copyFileSync(freshDump, dumpFile);
    const mysqlAccount = lab.state.serviceAccounts.mariadb;
    if (mysqlAccount) chownSync(dumpFile, mysqlAccount.uid, mysqlAccount.gid); // mariadbd reads it as its own account
    const loader = await connect('db-2');
    const ownPages = readFileSync(freshDump, 'utf8').trim().split('\n');
    const [[startup]] = await loader.query<any[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'");
    const t0 = Date.now();
    await loader.query('SET GLOBAL innodb_buffer_pool_load_now = ON');
    // The loader says "completed" once it has asked for the pages; they land after: the time is until 95 % of them are in.
    await loadCompleted(loader, t0, String(startup.Value));
    ideal.push(await timeToOwn95(loader, ownPages, t0));
    idealShare.push(await hotShare());
    await loader.end();

    // gameday: no dump of its own; the pages come from db-3.
    await warmBoth();
    await coldDb2();
    const t1 = Date.now();
    let loadStart = 0;
    const child = execa(process.execPath, [GAMEDAY, 'warmup', 'mysql', 'db-2', '--from', 'db-3', '--lab-dir', dir, '--state-dir', join(root, 'state'), '--yes'], { reject: false, env: { GAMEDAY_LOG_LEVEL: 'warn' } });
    child.stderr?.on('data', (chunk: Buffer) => {
      if (!loadStart && /\[2\/4\] load/.test(String(chunk))) loadStart = Date.now();
    });
    const reached = await timeTo95(t1);
    const run = await child;
    if (run.exitCode !== 0) throw new Error(`warmup mysql failed:\n${run.stdout}\n${run.stderr}`);
    ours.push(reached);
    oursLoad.push(t1 + reached - loadStart);
    warmedP99.push(p99(await firstReadsOnDb2()));

    // Cold: back from the same power loss, no warm-up at all.
    await warmBoth();
    await coldDb2();
    coldP99.push(p99(await firstReadsOnDb2()));
    const f = (xs: number[]) => xs[xs.length - 1].toFixed(1);
    process.stdout.write(`round ${round}: ideal load to 95 % of its own dump ${ideal.at(-1)} ms (then ${(idealShare.at(-1)! * 100).toFixed(1)} % of db-3's hot pages); gameday to 95 % of db-3's ${ours.at(-1)} ms end to end, ${oursLoad.at(-1)} ms from its load step; read p99 warm ${f(warmP99)} ms, after warm-up ${f(warmedP99)} ms, cold ${f(coldP99)} ms\n`);
  }
  const m = { ideal: median(ideal), ours: median(ours), oursLoad: median(oursLoad), warm: median(warmP99), warmed: median(warmedP99), cold: median(coldP99) };
  process.stdout.write(
    `\nmedians of ${rounds} rounds (${readsPerSample} reads per sample, ${users} users, 90 % of reads on 10 % of them):\n` +
      `  ideal: load_now of db-2's own fresh dump, until 95 % of its pages are in: ${m.ideal} ms\n` +
      `  gameday, until db-2 holds 95 % of db-3's hot pages: ${m.oursLoad} ms from the start of its load step (ratio ${(m.oursLoad / m.ideal).toFixed(2)}, goal <= 1.5); ${m.ours} ms end to end through the CLI (ratio ${(m.ours / m.ideal).toFixed(2)}: start-up and journal included)\n` +
      `  read p99 through db-2: warm ${m.warm.toFixed(1)} ms; first reads after the warm-up ${m.warmed.toFixed(1)} ms (${(m.warmed / m.warm).toFixed(2)}x warm, goal <= 2); cold ${m.cold.toFixed(1)} ms (${(m.cold / m.warm).toFixed(2)}x warm)\n`,
  );
} finally {
  await fence('ready').catch(() => undefined);
  await labDown(lab);
  rmSync(root, { recursive: true, force: true });
}
