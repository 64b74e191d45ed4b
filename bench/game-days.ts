/**
 * Game days measured on one lab, in one run:
 *  1. every scenario named (default: every rack, zone az-a, the Redis
 *     primary): error window, failed requests by kind, time to detect
 *     (dead servers out of the pools), to fail over (a new Redis primary),
 *     to recover (writes, reads), and acknowledged writes lost;
 *     Each scenario runs GAMEDAY_BENCH_ROUNDS times (3 by default), in turn,
 *     through the real CLI (so it samples as every game day does: every
 *     100 ms, Sentinels included); a verdict that is not the same every
 *     round is printed as FLAKY, and the bench exits 1;
 *  2. what the checks' own sampling costs: the same steady load with the
 *     game day's probes (as a game day runs them) and without, three rounds
 *     each, the order alternating, latency ratio.
 *
 * Usage: node --import tsx bench/game-days.ts [scenario ...]
 * It brings up a lab of its own on 198.18.26.x and takes it down.
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
import { watchAppStats } from '../chaos/probes/appStats.js';
import { FLEET_INTERVAL_MS, REDIS_INTERVAL_MS } from '../chaos/gameDay/run.js';
import { sentinelEndpoint } from '../runbooks/steps/fleet.js';
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

const ROUNDS = Math.max(1, Number(process.env.GAMEDAY_BENCH_ROUNDS ?? 3));
/** A figure, or '-' when the check did not measure it (no data is never a 0). */
const count = (v: number | null | undefined) => (v === null || v === undefined ? '-' : String(v));
let flaky = false;

try {
  const rows: string[][] = [];
  const verdicts = new Map<string, string[]>();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const name of scenarios) {
      const run = await execa(process.execPath, [GAMEDAY, 'chaos', 'run', name, '--json'], { reject: false, env });
      if (run.exitCode !== 0 && run.exitCode !== 1) {
        rows.push([`${name} #${round}`, `exit ${run.exitCode}`, run.stderr.split('\n').filter(Boolean).at(-1) ?? '']);
        verdicts.set(name, [...(verdicts.get(name) ?? []), `exit ${run.exitCode}`]);
        continue;
      }
      const r = JSON.parse(run.stdout) as GameDayReport;
      const k = r.load.byKind;
      const lostDb = measured(r, 'no-lost-writes', 'lostInDb');
      const lostRedis = measured(r, 'no-lost-writes', 'divergentInRedis');
      verdicts.set(name, [...(verdicts.get(name) ?? []), r.verdict]);
      rows.push([
        `${name} #${round}`,
        r.verdict,
        s(r.load.errorWindowMs),
        `${k.read.failed}/${k.create.failed}/${k['mark-read'].failed} of ${r.load.requests}`,
        s(measured(r, 'dead-servers-leave-pools', 'detectedMs')),
        s(measured(r, 'redis-failover', 'failedOverMs')),
        s(measured(r, 'writes-resume', 'recoveredMs')),
        s(measured(r, 'reads-resume', 'recoveredMs')),
        lostDb === undefined || lostDb === null || lostRedis === undefined || lostRedis === null ? '-' : count(lostDb + lostRedis),
        r.checks.filter((c) => c.status !== 'held').map((c) => `${c.id} ${c.status}`).join(', ') || '-',
      ]);
      process.stderr.write(`${name} #${round}: ${r.verdict} (${r.verdictReason})\n`);
    }
  }
  const head = ['scenario', 'verdict', 'error window', 'failed r/c/m', 'detected', 'redis failover', 'writes back', 'reads back', 'lost', 'checks not held'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (c ?? '').padEnd(widths[i])).join('  ');
  console.log(line(head));
  for (const row of rows) console.log(line(row));

  console.log('');
  for (const [name, vs] of verdicts) {
    const same = vs.every((v) => v === vs[0]);
    if (!same) flaky = true;
    console.log(`${name}: ${same ? `the same verdict ${vs.length} times (${vs[0]})` : `FLAKY: ${vs.join(', ')}`}`);
  }

  // The probes' own cost: the same load with the game day's samplers (as a game day runs them) and without, alternating.
  const f = labFleetEnv(dir);
  const frontends = lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http }));
  const sentinels = { endpoints: lab.hostsOf('sentinel').map((h) => ({ name: h.name, ...sentinelEndpoint(f, h) })), masterName: f.sentinelMasterName };
  const steady = async (withProbes: boolean) => {
    const fleet = withProbes ? startFleetSampler(lab.inventory, { haproxyEndpoint: f.haproxyEndpoint, mysql: f.mysql, sentinels }, FLEET_INTERVAL_MS) : undefined;
    const redis = withProbes ? watchRedisPrimaries(lab.hostsOf('redis').map((h) => ({ name: h.name, ...lab.redisEndpoint(h) })), REDIS_INTERVAL_MS) : undefined;
    const apps = withProbes ? watchAppStats(lab.inventory) : undefined;
    const load = startLoadLoop({ frontends, users: 2000, ratePerS: 40, createPercent: 20, markReadPercent: 10 });
    await new Promise((res) => setTimeout(res, 20_000));
    const report = await load.stop();
    await fleet?.stop();
    await redis?.stop();
    await apps?.stop();
    return report.samples.map((x) => x.ms);
  };
  const withMs: number[] = [];
  const withoutMs: number[] = [];
  for (let round = 0; round < 3; round++) {
    // Order alternating: with first, then without first, so neither always runs on a fresher lab.
    for (const probes of round % 2 === 0 ? [true, false] : [false, true]) (probes ? withMs : withoutMs).push(...(await steady(probes)));
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  console.log(`\nsampling cost (40 req/s, 20 s a round, 3 rounds each, order alternating): p50 ${pct(withMs, 0.5)} ms with the probes against ${pct(withoutMs, 0.5)} ms without (ratio ${(pct(withMs, 0.5) / Math.max(1, pct(withoutMs, 0.5))).toFixed(2)}); p99 ${pct(withMs, 0.99)} ms against ${pct(withoutMs, 0.99)} ms (ratio ${(pct(withMs, 0.99) / Math.max(1, pct(withoutMs, 0.99))).toFixed(2)})`);
  const last = listGameDays(join(root, 'state')).at(-1);
  const probeCost = JSON.parse(readFileSync(join(root, 'state', 'runs', last!.runId, 'report.json'), 'utf8')) as GameDayReport;
  for (const p of probeCost.probes) console.log(`  ${p.name}: every ${p.intervalMs} ms, ${p.samples} samples, mean ${p.meanMs} ms each, ${p.failedSamples} with a part that did not answer`);
} finally {
  await labDown(lab);
}
if (flaky) process.exitCode = 1;
