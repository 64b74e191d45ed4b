/**
 * Buffer-pool warm-up of a replica after a power loss, against the ideal, in
 * one run on one lab (both replicas warmed by the same skewed read load):
 *   the ideal  MariaDB's own innodb_buffer_pool_load_now from a fresh dump of
 *              the same host (dump_pct 100, taken just before the power loss:
 *              what a clean shutdown would have left), loaded again while db-2
 *              is short, as gameday's load step does (idealRun says why)
 *   gameday    `gameday warmup mysql db-2 --from db-3` with no dump of its own
 *              (a power loss long after the last one), end to end through the CLI
 * Both start from the same cold, fenced db-2, and take turns at going first
 * (round 1 the ideal first, round 2 gameday first, ...). Both are timed to the
 * same page set with the same poller (timeTo95: db-2's pool read every 20 ms,
 * until it holds 95 % of the set): the pages of db-3's hot set that db-2's
 * fresh dump holds too, both read at one moment just before the power loss
 * (the bench sends db-3 no reads until the round ends, so the hot set gameday
 * reads is that one, give or take replication's writes). The intersection, because it is what both are asked to load: on
 * db-3's whole hot set the ideal would be timed to pages its dump never names,
 * on db-2's whole dump gameday to pages db-3 never held. gameday's time runs
 * from the start of its load step, and end to end through the CLI; the ratio
 * is gameday (from its load step) / ideal (goal: at most 1.5).
 *
 * Then the read latency through db-2 once it is back (the first reads of the
 * same skewed load, as a ramp's first step sees them): p99 after gameday's
 * warm-up against p99 cold (no warm-up), both against its warm p99 before the
 * power loss (goal: warmed at most 2x warm).
 *
 * Usage: node --import tsx bench/mysql-warmup.ts [reads per sample, default 3000] [rounds, default 3]
 * A lab of its own on 198.18.36.x, taken down at the end.
 */
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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
import { dumpNow, loadPages, pageKey, poolCounters, poolPages, tablespaces } from '../drivers/mysql/bufferPool.js';

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

const POLL_MS = 20;

/** The one poller both are timed with: the ms from `t0` until db-2's pool holds 95 % of `pages` (pageKey names). */
async function timeTo95(db2: Connection, pages: Set<string>, t0: number): Promise<number> {
  let held = 0;
  while (Date.now() - t0 < 120_000) {
    held = (await poolPages(db2)).filter((p) => pages.has(pageKey(p))).length;
    if (held >= 0.95 * pages.size) return Date.now() - t0;
    await sleep(POLL_MS);
  }
  const [[status]] = await db2.query<any[]>("SHOW GLOBAL STATUS LIKE 'Innodb_buffer_pool_load_status'");
  throw new Error(`db-2 never held 95 % of the ${pages.size} pages (${held} after 120 s; its loader: ${status.Value})`);
}

/** Just before the power loss: db-2's fresh dump (kept in `freshDump`), the user tables it names, and the page set both are timed to. */
async function pageSet(): Promise<{ pages: Set<string>; hot: number; tables: string[] }> {
  const c = await connect('db-2');
  await c.query('SET GLOBAL innodb_buffer_pool_dump_pct = 100');
  await dumpNow(c);
  const nameOf = new Map([...(await tablespaces(c))].map(([name, t]) => [t.space, name]));
  await c.end();
  copyFileSync(dumpFile, freshDump);
  const peer = await connect('db-3');
  const hot = (await poolPages(peer)).map(pageKey);
  await peer.end();
  const own = readFileSync(freshDump, 'utf8').trim().split('\n').map((line) => {
    const [space, page] = line.split(',').map(Number);
    return { tablespace: nameOf.get(space) ?? '', page };
  });
  const ownKeys = new Set(own.map(pageKey));
  const pages = new Set(hot.filter((k) => ownKeys.has(k)));
  if (pages.size === 0) throw new Error("db-3's hot set and db-2's dump have no page in common");
  const tables = [...new Set(own.map((p) => p.tablespace))].filter((n) => /^[^/#]+\/[^/#]+$/.test(n) && !/^(mysql|sys)\//.test(n));
  return { pages, hot: hot.length, tables };
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

/**
 * The ideal: db-2's own fresh dump, loaded by MariaDB into the cold pool. After a power loss InnoDB's loader
 * silently skips the pages of a table not opened since the start, and in some runs the pages of a completed
 * load were not there a moment later (84 of 506 after 8 s, 1,012 pages freed with 1,414 frames free). So,
 * as gameday's load step does, the tables the dump names are opened first and the dump is loaded again while
 * db-2 is still short once the pool has settled (at most 6 loads), all within the time.
 */
async function idealRun(pages: Set<string>, tables: string[]): Promise<{ ms: number; loads: number }> {
  await coldDb2();
  const own = readFileSync(freshDump, 'utf8').trim().split('\n').map((line) => {
    const [space, page] = line.split(',').map(Number);
    return { space, page };
  });
  const mysqlAccount = lab.state.serviceAccounts.mariadb;
  const writeList = async (text: string) => {
    writeFileSync(dumpFile, text);
    if (mysqlAccount) chownSync(dumpFile, mysqlAccount.uid, mysqlAccount.gid); // mariadbd reads it as its own account
  };
  const [loader, db2] = await Promise.all([connect('db-2'), connect('db-2')]);
  let reached = false;
  let loads = 0;
  try {
    const t0 = Date.now();
    const loading = (async () => {
      for (const name of tables) await loader.query(`SELECT 1 FROM ${name.split('/').map((x) => `\`${x}\``).join('.')} LIMIT 1`);
      while (!reached && loads < 6) {
        loads++;
        await loadPages(loader, own, writeList);
        // "Completed" comes before the pages land: the next load only once the pool's page count stops moving.
        for (let last = -1, still = 0, end = Date.now() + 2000; !reached && still < 3 && Date.now() < end; await sleep(20)) {
          const { pagesData } = await poolCounters(loader);
          still = pagesData === last ? still + 1 : 0;
          last = pagesData;
        }
      }
    })();
    const ms = await timeTo95(db2, pages, t0);
    reached = true;
    await loading;
    return { ms, loads };
  } finally {
    await Promise.all([loader.end(), db2.end()]);
  }
}

/** gameday: no dump of its own; the pages come from db-3. Then the first reads through db-2. */
async function gamedayRun(pages: Set<string>): Promise<{ endToEnd: number; fromLoadStep: number; p99After: number }> {
  await coldDb2();
  const db2 = await connect('db-2');
  let loadStart = 0;
  const t0 = Date.now();
  const child = execa(process.execPath, [GAMEDAY, 'warmup', 'mysql', 'db-2', '--from', 'db-3', '--lab-dir', dir, '--state-dir', join(root, 'state'), '--yes'], { reject: false, env: { GAMEDAY_LOG_LEVEL: 'warn' } });
  child.stderr?.on('data', (chunk: Buffer) => {
    if (!loadStart && /\[2\/4\] load/.test(String(chunk))) loadStart = Date.now();
  });
  let reached: number;
  try {
    reached = await timeTo95(db2, pages, t0);
  } catch (err) {
    child.kill();
    throw err;
  } finally {
    await db2.end();
  }
  const run = await child;
  if (run.exitCode !== 0) throw new Error(`warmup mysql failed:\n${run.stdout}\n${run.stderr}`);
  if (!loadStart) throw new Error(`no load step seen in gameday's progress:\n${run.stderr}`);
  return { endToEnd: reached, fromLoadStep: t0 + reached - loadStart, p99After: p99(await firstReadsOnDb2()) };
}

const ideal: number[] = [];
const idealLoads: number[] = [];
const ours: number[] = [];
const oursLoad: number[] = [];
const warmP99: number[] = [];
const warmedP99: number[] = [];
const coldP99: number[] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    warmP99.push(p99(await warmBoth()));
    const set = await pageSet();
    const runIdeal = async () => {
      const r = await idealRun(set.pages, set.tables);
      ideal.push(r.ms);
      idealLoads.push(r.loads);
    };
    const runOurs = async () => {
      const r = await gamedayRun(set.pages);
      ours.push(r.endToEnd);
      oursLoad.push(r.fromLoadStep);
      warmedP99.push(r.p99After);
    };
    // Turns at going first: round 1 the ideal, round 2 gameday, ...
    for (const run of round % 2 === 1 ? [runIdeal, runOurs] : [runOurs, runIdeal]) await run();

    // Cold: back from the same power loss, no warm-up at all.
    await coldDb2();
    coldP99.push(p99(await firstReadsOnDb2()));
    const f = (xs: number[]) => xs[xs.length - 1].toFixed(1);
    process.stdout.write(
      `round ${round} (${round % 2 === 1 ? 'ideal' : 'gameday'} first), to 95 % of ${set.pages.size} pages (of db-3's ${set.hot} hot ones, those db-2's dump holds too): ideal ${ideal.at(-1)} ms (${idealLoads.at(-1)} load${idealLoads.at(-1) === 1 ? '' : 's'}); gameday ${oursLoad.at(-1)} ms from its load step, ${ours.at(-1)} ms end to end; read p99 warm ${f(warmP99)} ms, after warm-up ${f(warmedP99)} ms, cold ${f(coldP99)} ms\n`,
    );
  }
  const m = { ideal: median(ideal), ours: median(ours), oursLoad: median(oursLoad), warm: median(warmP99), warmed: median(warmedP99), cold: median(coldP99) };
  process.stdout.write(
    `\nmedians of ${rounds} rounds (${readsPerSample} reads per sample, ${users} users, 90 % of reads on 10 % of them), each until db-2 holds 95 % of the same page set (db-3's hot pages that db-2's own dump holds too), polled every ${POLL_MS} ms:\n` +
      `  ideal: load_now of db-2's own fresh dump (again while short; loads per round: ${idealLoads.join(', ')}): ${m.ideal} ms\n` +
      `  gameday: ${m.oursLoad} ms from the start of its load step (ratio ${(m.oursLoad / m.ideal).toFixed(2)}, goal <= 1.5); ${m.ours} ms end to end through the CLI (ratio ${(m.ours / m.ideal).toFixed(2)}: start-up and journal included)\n` +
      `  read p99 through db-2: warm ${m.warm.toFixed(1)} ms; first reads after the warm-up ${m.warmed.toFixed(1)} ms (${(m.warmed / m.warm).toFixed(2)}x warm, goal <= 2); cold ${m.cold.toFixed(1)} ms (${(m.cold / m.warm).toFixed(2)}x warm)\n`,
  );
} finally {
  await fence('ready').catch(() => undefined);
  await labDown(lab);
  rmSync(root, { recursive: true, force: true });
}
