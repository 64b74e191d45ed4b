/**
 * Game days measured on one lab, in one run:
 *  1. every scenario named (default: every rack, zone az-a, the Redis
 *     primary): error window, failed requests by kind, time to detect
 *     (dead servers out of the pools), to fail over (a new Redis primary),
 *     to recover (writes, reads), and acknowledged writes lost;
 *  2. what the checks' own sampling costs: the same steady load with the
 *     game day's probes running and without them, latency ratio.
 *
 * Usage: node --import tsx bench/game-days.ts [scenario ...]
 * It brings up a lab of its own on 127.26.x.y and takes it down.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { labFleetEnv } from '../cli/wiring/labFleetEnv.js';
import { startLoadLoop } from '../chaos/load/loop.js';
import { startFleetSampler } from '../chaos/probes/fleetSampler.js';
import { watchRedisPrimaries } from '../chaos/probes/redisPrimaries.js';
import type { GameDayReport } from '../chaos/report/types.js';
import { listGameDays } from '../chaos/runs.js';

const GAMEDAY = fileURLToPath(new URL('../bin/gameday.js', import.meta.url));
const scenarios = process.argv.slice(2).length ? process.argv.slice(2) : ['rack-a1', 'rack-a2', 'rack-b1', 'rack-b2', 'rack-c1', 'rack-c2', 'zone-az-a', 'host-redis-primary'];
const root = mkdtempSync(join(tmpdir(), 'gameday-bench-gamedays-'));
const dir = join(root, 'lab');
const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(root, 'state'), GAMEDAY_LAB_DIR: dir };
const lab = await labUp({ dir, octet: 26, seed: { users: 2000, notificationsPerUser: 10, readPercent: 50 } });

const s = (ms: number | null | undefined) => (ms === null || ms === undefined ? '-' : `${(ms / 1000).toFixed(1)} s`);
const measured = (r: GameDayReport, id: string, key: string) => r.checks.find((c) => c.id === id)?.measured[key] as number | null | undefined;

try {
  const rows: string[][] = [];
  for (const name of scenarios) {
    const run = await execa(process.execPath, [GAMEDAY, 'chaos', 'run', name, '--json'], { reject: false, env });
    if (run.exitCode !== 0 && run.exitCode !== 1) {
      rows.push([name, `exit ${run.exitCode}`, run.stderr.split('\n').filter(Boolean).at(-1) ?? '']);
      continue;
    }
    const r = JSON.parse(run.stdout) as GameDayReport;
    const k = r.load.byKind;
    const lost = r.checks.find((c) => c.id === 'no-lost-writes');
    rows.push([
      name,
      r.verdict,
      s(r.load.errorWindowMs),
      `${k.read.failed}/${k.create.failed}/${k['mark-read'].failed} of ${r.load.requests}`,
      s(measured(r, 'dead-servers-leave-pools', 'detectedMs')),
      s(measured(r, 'redis-failover', 'failedOverMs')),
      s(measured(r, 'writes-resume', 'recoveredMs')),
      s(measured(r, 'reads-resume', 'recoveredMs')),
      lost ? String((measured(r, 'no-lost-writes', 'lostInDb') ?? 0) + (measured(r, 'no-lost-writes', 'divergentInRedis') ?? 0)) : '-',
      r.checks.filter((c) => !c.passed).map((c) => c.id).join(', ') || '-',
    ]);
    process.stderr.write(`${name}: ${r.verdict} (${r.verdictReason})\n`);
  }
  const head = ['scenario', 'verdict', 'error window', 'failed r/c/m', 'detected', 'redis failover', 'writes back', 'reads back', 'lost', 'failed checks'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));

  // The probes' own cost: the same load with and without the game day's samplers.
  const f = labFleetEnv(dir);
  const frontends = lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http }));
  const steady = async (withProbes: boolean) => {
    const fleet = withProbes ? startFleetSampler(lab.inventory, { haproxyEndpoint: f.haproxyEndpoint, mysql: f.mysql }) : undefined;
    const redis = withProbes ? watchRedisPrimaries(lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) }))) : undefined;
    const load = startLoadLoop({ frontends, users: 2000, ratePerS: 40, createPercent: 20, markReadPercent: 10 });
    await new Promise((res) => setTimeout(res, 20_000));
    const report = await load.stop();
    await fleet?.stop();
    await redis?.stop();
    const ms = report.samples.map((x) => x.ms).sort((a, b) => a - b);
    return { p50: ms[Math.floor(ms.length / 2)], p99: ms[Math.floor(ms.length * 0.99)] };
  };
  const without = await steady(false);
  const withProbes = await steady(true);
  console.log(`\nsampling cost (40 req/s for 20 s each): p50 ${withProbes.p50} ms with the probes against ${without.p50} ms without (ratio ${(withProbes.p50 / Math.max(1, without.p50)).toFixed(2)}); p99 ${withProbes.p99} ms against ${without.p99} ms (ratio ${(withProbes.p99 / Math.max(1, without.p99)).toFixed(2)})`);
  const last = listGameDays(join(root, 'state')).at(-1);
  const probeCost = JSON.parse(readFileSync(join(root, 'state', 'runs', last!.runId, 'report.json'), 'utf8')) as GameDayReport;
  for (const p of probeCost.probes) console.log(`  ${p.name}: every ${p.intervalMs} ms, ${p.samples} samples, mean ${p.meanMs} ms each, ${p.failedSamples} with a part that did not answer`);
} finally {
  await labDown(lab);
}
