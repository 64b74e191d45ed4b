/**
 * A switchover that cannot finish gives the writes back: under 40 requests/s,
 * `reboot-stale --hosts <primary>` with both replicas frozen (SIGSTOP) the
 * moment the primary turns read-only. Expected: the run fails at the
 * hand-off, the old primary is writable again and the only writer, and the
 * writes gap is bounded by the connect timeout (3 s) or the GTID wait.
 * Run by hand on a lab that is up (it leaves the lab as it found it):
 *   GAMEDAY_LAB_DIR=<lab> GAMEDAY_STATE_DIR=<dir> node --import tsx scripts/switchover-rollback-under-load.ts
 */
import { execa } from 'execa';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireLab } from '../lab/context.js';
import { rootConnection } from '../lab/bootstrap.js';
import { startLoadLoop } from '../chaos/load/loop.js';

const lab = requireLab(process.env.GAMEDAY_LAB_DIR!);
const pidOf = (host: string) => lab.state.processes[`${host}/mariadbd`].pid;
const roOf = async (host: string) => {
  const c = await rootConnection(lab, lab.host(host));
  try {
    const [[r]] = (await c.query('SELECT @@read_only AS ro')) as any;
    return Number(r.ro);
  } finally {
    await c.end();
  }
};
const primary = (await Promise.all(['db-1', 'db-2', 'db-3'].map(async (h) => ((await roOf(h)) === 0 ? h : '')))).find(Boolean)!;
const replicas = ['db-1', 'db-2', 'db-3'].filter((h) => h !== primary);
const watch = await rootConnection(lab, lab.host(primary));
const load = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: 2000, ratePerS: 40, createPercent: 30, timeoutMs: 2000 });
await sleep(3000);
const t0 = Date.now();
const run = execa(process.execPath, [new URL('../bin/gameday.js', import.meta.url).pathname, 'runbook', 'run', 'reboot-stale', '--hosts', primary, '--max-uptime', '1s', '--margin', '0s', '--days', 'mon-sun', '--hours', '00:00-23:59', '--yes', '--json'], { reject: false });
let frozenAt = 0;
while (run.exitCode === null && Date.now() - t0 < 120_000) {
  const [[row]] = (await watch.query('SELECT @@read_only AS ro')) as any;
  if (Number(row.ro) === 1) {
    for (const h of replicas) process.kill(pidOf(h), 'SIGSTOP');
    frozenAt = Date.now();
    break;
  }
  await sleep(2);
}
const r = await run;
const endedAt = Date.now();
for (const h of replicas) process.kill(pidOf(h), 'SIGCONT');
await watch.end();
const out = JSON.parse(r.stdout);
const db1 = await roOf(primary);
await sleep(5000);
const report = await load.stop();
const writers = [];
for (const h of ['db-1', 'db-2', 'db-3']) if ((await roOf(h)) === 0) writers.push(h);
console.log(JSON.stringify({ primary,
  exit: r.exitCode, state: out.state, failedStep: out.failedStep?.id, error: out.failedStep?.error?.slice(0, 300), degraded: out.degraded,
  frozenAfterMs: frozenAt - t0, runEndedAfterFreezeMs: endedAt - frozenAt, db1ReadOnlyAtEnd: db1, writersAfterThaw: writers,
  writes: report.writes, longestWriteGapMs: report.longestWriteGapMs,
}, null, 2));
