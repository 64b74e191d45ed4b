/**
 * Full reboot cycles of the lab under a write-heavy load, as an SRE would
 * run them: `gameday runbook run reboot-stale --max-uptime 1s --verify all`
 * (default parameters otherwise) while a client sends 80 requests/s (25 %
 * creates, 25 % mark-reads: 40 writes/s) through both proxies, failing over
 * between them, and Redis roles are sampled every 100 ms. After each cycle:
 * failed requests, Redis hand-off write pauses, MariaDB switchover refusals,
 * samples with two writable Redis primaries, acknowledged writes missing
 * from either store, and a full Redis-vs-MariaDB comparison of every user.
 *
 * Usage: node --import tsx scripts/reboot-cycles-under-load.ts [cycles, default 3] [concurrency, default 1]
 * (concurrency: reboot-stale --concurrency, a wave's hosts taken down side by side)
 * Brings up its own lab on 198.18.27.x (default seed) and takes it down.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { stepRunningAt } from '../engine/runState.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { openLab } from '../lab/context.js';
import { labFleetEnv } from '../cli/wiring/labFleetEnv.js';
import { startLoadLoop } from '../chaos/load/loop.js';
import { checkAckedWrites, describeAckedWrites } from '../chaos/load/ackedWrites.js';
import { watchRedisPrimaries } from '../chaos/probes/redisPrimaries.js';
import { openNotificationStores } from '../runbooks/steps/consistencyCheck.js';
import { describeVerify, usersToVerify, verifyNotifications } from '../warmup/redis/verify.js';

const cycles = Number(process.argv[2] ?? 3);
const concurrency = Number(process.argv[3] ?? 1);

const root = mkdtempSync(join(tmpdir(), 'gameday-cycles-'));
const dir = join(root, 'lab');
const stateDir = join(root, 'state');
const gameday = new URL('../bin/gameday.js', import.meta.url).pathname;
const lab = await labUp({ dir, octet: 27 });
try {
  for (let c = 1; c <= cycles; c++) {
    const runsDir = join(stateDir, 'runs');
    const before = new Set(existsSync(runsDir) ? readdirSync(runsDir) : []);
    const load = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users: lab.state.seed.users, ratePerS: 80, createPercent: 25, markReadPercent: 25, timeoutMs: 1000 });
    const roles = watchRedisPrimaries(lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) })));
    const started = Date.now();
    const run = await execa(process.execPath, [gameday, 'runbook', 'run', 'reboot-stale', '--max-uptime', '1s', '--verify', 'all', '--concurrency', String(concurrency), '--yes'], { reject: false, env: { GAMEDAY_LAB_DIR: dir, GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn' } });
    const wallS = (Date.now() - started) / 1000;
    const report = await load.stop();
    const split = await roles.stop();
    // The first new run is reboot-stale's own; its nested runs (warm-ups, ramps) start after it.
    const runId = readdirSync(join(stateDir, 'runs')).filter((id) => !before.has(id)).sort()[0]!;
    const events = readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const notes = events.filter((e) => e.event === 'note');
    const redisPauses = notes.filter((e) => e.data?.writePauseMs !== undefined).map((e) => `${e.stepId.split('/')[1]} ${e.data.writePauseMs} ms`);
    const dbRefusals = notes.filter((e) => e.data?.writesRefusedMs !== undefined).map((e) => `${e.stepId.split('/')[1]} ${e.data.writesRefusedMs} ms`);
    const runCheck = notes.find((e) => e.stepId === 'verify-notifications')?.data?.consistency;
    const stores = await openNotificationStores(labFleetEnv(openLab(dir)!.dir), lab.inventory);
    try {
      const acked = await checkAckedWrites(report.acked, stores.db, stores.redis);
      const full = await verifyNotifications(stores.db, stores.redis, await usersToVerify(stores.db, { all: true }));
      process.stdout.write(
        [
          `cycle ${c}: reboot-stale --concurrency ${concurrency} exit ${run.exitCode} in ${wallS.toFixed(0)} s (run ${runId})`,
          ...(run.exitCode !== 0 ? [run.stderr.split('\n').slice(-8).join('\n')] : []),
          `  load: ${report.reads.total} reads (${report.reads.failed} failed), ${report.writes.total} writes (${report.writes.failed} failed), longest write gap ${report.longestWriteGapMs} ms`,
          `  Redis hand-offs paused writes: ${redisPauses.join(', ') || 'none'}; MariaDB switchovers refused writes: ${dbRefusals.join(', ') || 'none'}`,
          `  Redis roles: ${split.samples} samples, ${split.twoWritable.length} with two writable primaries`,
          ...report.failures.map((f) => `  failed ${f.kind} at ${f.at} (status ${f.status || 'no answer'}) during ${stepRunningAt(events, f.at)}`),
          `  the run's own check: ${runCheck ? `${runCheck.usersChecked} users, ${runCheck.usersMismatched} mismatched` : 'missing'}`,
          `  ${describeAckedWrites(acked)}`,
          `  ${describeVerify(full)}`,
        ].join('\n') + '\n',
      );
    } finally {
      await stores.close();
    }
  }
} finally {
  await labDown(openLab(dir) ?? lab);
}
