/**
 * `placement check` at fleet scale, on generated inventories: 11 tiers over
 * 4 zones in racks of about 20 hosts, a web pool and a db pool behind two
 * proxies each. For each size it times, in this process: the analysis
 * (placementCheck), the text report without and with one row per host, and
 * the JSON; and prints how each grows from one size to the next against the
 * growth of the host count (linear: the same ratio; quadratic: its square).
 * Then reboot waves for every host (planWaves): planning time and its growth, how many waves, the most hosts in one,
 * and the cycle estimate (estimateCycle) in a nightly window of 02:00-05:00
 * at the default host turn (DEFAULT_HOST_MS): nights if a wave's hosts ran
 * together, and nights one after another (what reboot-stale does today).
 *
 * Then the inventory read from a YAML file of each size: loadInventory (js-yaml, the yaml package only
 * for a file js-yaml refuses) against the peer, the yaml package's parse then the same validation
 * (what loadInventory did before), each timed three times, the order alternating; the ratio is
 * peer / ours (above 1: ours is faster).
 *
 * Usage: node --import tsx bench/placement-scale.ts [sizes, default 1000,10000,100000] [--skip-100k] [--waves-only]
 *   --skip-100k   leave out the sizes above 30,000 (a 100,000-host run takes some seconds per measure)
 *   --waves-only  time the wave planning and estimate only, not the placement analysis and reports
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { PROJECT_ROOT } from '../core/paths.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as toYaml } from 'yaml';
import { loadInventory, parseInventory, placementCheck, type InventoryInput } from '../topology/index.js';
import { renderPlacementCheck } from '../cli/placementCommand.js';
import { planWaves } from '../runbooks/planning/waves.js';
import { DEFAULT_HOST_MS, estimateCycle, formatWindows } from '../runbooks/planning/cycleEstimate.js';
import { formatDuration } from '../core/duration.js';

const args = process.argv.slice(2);
const flags = new Set(args.filter((a) => a.startsWith('--')));
const unknown = [...flags].filter((f) => f !== '--skip-100k' && f !== '--waves-only');
if (unknown.length) {
  process.stderr.write(`unknown option ${unknown.join(', ')}; usage: bench/placement-scale.ts [sizes] [--skip-100k] [--waves-only]\n`);
  process.exit(2);
}
const sizes = (args.find((a) => !a.startsWith('--')) ?? '1000,10000,100000')
  .split(',')
  .map(Number)
  .filter((n) => !(flags.has('--skip-100k') && n > 30_000));
if (sizes.some((n) => !Number.isInteger(n) || n < 1)) {
  process.stderr.write(`sizes must be whole host counts, comma-separated, e.g. 1000,10000,100000\n`);
  process.exit(2);
}
const wavesOnly = flags.has('--waves-only');
const NIGHTLY = { days: 'all', hours: '02:00-05:00' };
const TIERS: Array<[string, number, string?]> = [
  ['web', 0.3, 'http'], ['api', 0.2, 'http'], ['worker', 0.15], ['batch', 0.05], ['storage', 0.1], ['cache', 0.05],
  ['db', 0.05, 'mariadb'], ['pub-db', 0.03, 'mariadb'], ['redis', 0.03, 'redis'], ['sentinel', 0.02, 'sentinel'], ['proxy', 0.02, 'haproxy'],
];
const ZONES = ['az-a', 'az-b', 'az-c', 'az-d'];

function generate(n: number): InventoryInput {
  const hosts: NonNullable<InventoryInput['hosts']> = [];
  for (const [tier, share] of TIERS) {
    const count = Math.max(3, Math.round(n * share));
    for (let i = 0; i < count; i++) {
      const zone = ZONES[i % ZONES.length];
      // Racks of ~20 hosts in each zone, a tier's members spread over them.
      const rack = `r${Math.floor(i / ZONES.length) % Math.max(1, Math.floor(n / ZONES.length / 20))}`;
      const role = tier.endsWith('db') || tier === 'redis' ? (i === 0 ? 'primary' : 'replica') : undefined;
      hosts.push({ name: `${tier}-${i + 1}`, tier, zone, rack, address: `10.${hosts.length >> 16}.${(hosts.length >> 8) & 255}.${hosts.length & 255}`, ...(role ? { role } : {}) });
    }
  }
  const of = (tier: string) => hosts.filter((h) => h.tier === tier).map((h) => h.name);
  return {
    name: `generated-${n}`,
    tiers: Object.fromEntries(TIERS.map(([t, , kind]) => [t, { ...(kind ? { kind: kind as 'http' } : {}), ...(t === 'sentinel' ? { quorum: 2 } : { minHealthy: 2 }), placement: { maxPerRack: 1000 } }])),
    placement: { maxPerRack: 1000, minZones: 2 },
    hosts,
    pools: [
      { name: 'web', proxies: of('proxy').slice(0, 2), servers: of('web') },
      { name: 'db-read', proxies: of('proxy').slice(2, 4), servers: of('db') },
    ],
  };
}

const time = (fn: () => unknown) => {
  const t0 = performance.now();
  const out = fn();
  return { ms: performance.now() - t0, out };
};

type Plan = ReturnType<typeof planWaves>;
const rows: Array<{ hosts: number; analysis: number; text: number; textHosts: number; json: number; jsonBytes: number; waves: number; plan: Plan }> = [];
for (const n of sizes) {
  const inv = parseInventory(generate(n), `generated ${n}`);
  const names = inv.hosts.map((h) => h.name);
  // The waves first, on a fresh inventory: nothing the analysis built is reused.
  const waves = time(() => planWaves(inv, names));
  const row = { hosts: inv.hosts.length, analysis: NaN, text: NaN, textHosts: NaN, json: NaN, jsonBytes: NaN, waves: waves.ms, plan: waves.out as Plan };
  if (!wavesOnly) {
    const analysis = time(() => placementCheck(inv));
    const check = analysis.out as ReturnType<typeof placementCheck>;
    row.analysis = analysis.ms;
    row.text = time(() => renderPlacementCheck(check, false)).ms;
    row.textHosts = time(() => renderPlacementCheck(check, true)).ms;
    const json = time(() => JSON.stringify(check));
    row.json = json.ms;
    row.jsonBytes = (json.out as string).length;
  }
  rows.push(row);
}

const f = (ms: number) => (Number.isNaN(ms) ? '-' : ms < 10 ? ms.toFixed(1) : Math.round(ms).toString());
const x = (a: number, b: number) => (Number.isNaN(a) || Number.isNaN(b) ? '-' : `x${(a / b).toFixed(1)}`);
if (!wavesOnly) {
  process.stdout.write('hosts      analysis   text   text --hosts   JSON (size)\n');
  rows.forEach((r, i) => {
    const prev = rows[i - 1];
    const growth = prev ? `   x${(r.hosts / prev.hosts).toFixed(1)} hosts: analysis ${x(r.analysis, prev.analysis)}, --hosts ${x(r.textHosts, prev.textHosts)}, JSON ${x(r.json, prev.json)}` : '';
    process.stdout.write(`${String(r.hosts).padEnd(10)} ${f(r.analysis).padStart(6)} ms ${f(r.text).padStart(6)} ms ${f(r.textHosts).padStart(9)} ms ${f(r.json).padStart(7)} ms (${(r.jsonBytes / 1e6).toFixed(1)} MB)${growth}\n`);
  });
  process.stdout.write('\n');
}

process.stdout.write(`reboot waves of every host (at most ${rows[0]?.plan.maxPerWave} a wave), estimated at ${formatDuration(DEFAULT_HOST_MS)} a host in a nightly window of ${NIGHTLY.hours}:\n`);
process.stdout.write('hosts      planning   waves   most in one   a wave together             one host after another\n');
rows.forEach((r, i) => {
  const e = estimateCycle(r.plan.waves, { window: NIGHTLY });
  const most = r.plan.waves.reduce((m, w) => Math.max(m, w.hosts.length), 0);
  const prev = rows[i - 1];
  const growth = prev ? `   x${(r.hosts / prev.hosts).toFixed(1)} hosts: planning ${x(r.waves, prev.waves)}, waves x${(r.plan.waves.length / prev.plan.waves.length).toFixed(1)}` : '';
  const refused = r.plan.refused.length ? ` (${r.plan.refused.length} refused)` : '';
  process.stdout.write(
    `${String(r.hosts).padEnd(10)} ${f(r.waves).padStart(6)} ms ${String(r.plan.waves.length).padStart(7)} ${String(most).padStart(13)}   ${`${formatDuration(e.together.totalMs)}, ${e.together.windows} nights`.padEnd(27)} ${formatDuration(e.oneByOne.totalMs)}, ${e.oneByOne.windows} nights${refused}${growth}\n`,
  );
  if (i === rows.length - 1) process.stdout.write(`  (${r.hosts} hosts: ${formatWindows(e.together, e)} together, ${formatWindows(e.oneByOne, e)} one after another)\n`);
});

// Reading the inventory from YAML: ours against the yaml package's parse, alternating.
const work = mkdtempSync(join(tmpdir(), 'gameday-placement-yaml-'));
try {
  process.stdout.write('\nreading a YAML inventory (median of 3, order alternating):\nhosts      size      loadInventory   yaml package + validation   ratio\n');
  for (const n of sizes) {
    const file = join(work, `inventory-${n}.yaml`);
    writeFileSync(file, toYaml(generate(n)));
    const ours: number[] = [];
    const peer: number[] = [];
    for (let round = 0; round < 3; round++) {
      const runOurs = () => ours.push(time(() => loadInventory(file)).ms);
      const runPeer = () => peer.push(time(() => parseInventory(parseYaml(readFileSync(file, 'utf8')), file)).ms);
      if (round % 2 === 0) { runOurs(); runPeer(); } else { runPeer(); runOurs(); }
    }
    const median = (a: number[]) => [...a].sort((p, q) => p - q)[1];
    const size = readFileSync(file).length;
    // The whole command as a user runs it (start-up, read, check, JSON out), wall clock.
    const started = Date.now();
    const cli = spawnSync(process.execPath, [join(PROJECT_ROOT, 'bin', 'gameday.js'), 'placement', 'check', '--json', file], { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 1 << 30 });
    const wall = cli.status === null ? 'killed' : `${((Date.now() - started) / 1000).toFixed(2)} s (exit ${cli.status})`;
    process.stdout.write(`${String(n).padEnd(10)} ${(size / 1e6).toFixed(1).padStart(4)} MB   ${f(median(ours)).padStart(10)} ms   ${f(median(peer)).padStart(20)} ms   x${(median(peer) / median(ours)).toFixed(1)}   gameday placement check --json: ${wall}\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
