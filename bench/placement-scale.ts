/**
 * `placement check` at fleet scale, on generated inventories: 11 tiers over
 * 4 zones in racks of about 20 hosts, a web pool and a db pool behind two
 * proxies each. For each size it times, in this process: the analysis
 * (placementCheck), the text report without and with one row per host, and
 * the JSON, and reboot waves for every host (planWaves); and prints how each grows from one size to the next against the
 * growth of the host count (linear: the same ratio; quadratic: its square).
 *
 * Usage: node --import tsx bench/placement-scale.ts [sizes, default 1000,3000,10000,30000,100000]
 */
import { parseInventory, placementCheck, type InventoryInput } from '../topology/index.js';
import { renderPlacementCheck } from '../cli/placementCommand.js';
import { planWaves } from '../runbooks/waves.js';

const sizes = (process.argv[2] ?? '1000,3000,10000,30000,100000').split(',').map(Number);
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

const rows: Array<{ hosts: number; analysis: number; text: number; textHosts: number; json: number; jsonBytes: number; waves: number; waveCount: number }> = [];
for (const n of sizes) {
  const inv = parseInventory(generate(n), `generated ${n}`);
  const analysis = time(() => placementCheck(inv));
  const check = analysis.out as ReturnType<typeof placementCheck>;
  const text = time(() => renderPlacementCheck(check, false));
  const textHosts = time(() => renderPlacementCheck(check, true));
  const json = time(() => JSON.stringify(check));
  const waves = time(() => planWaves(inv, inv.hosts.map((h) => h.name)));
  rows.push({ hosts: inv.hosts.length, analysis: analysis.ms, text: text.ms, textHosts: textHosts.ms, json: json.ms, jsonBytes: (json.out as string).length, waves: waves.ms, waveCount: (waves.out as ReturnType<typeof planWaves>).waves.length });
}

const f = (ms: number) => (ms < 10 ? ms.toFixed(1) : Math.round(ms).toString());
process.stdout.write('hosts      analysis   text   text --hosts   JSON (size)          waves (count)\n');
rows.forEach((r, i) => {
  const prev = rows[i - 1];
  const growth = prev ? `   x${(r.hosts / prev.hosts).toFixed(1)} hosts: analysis x${(r.analysis / prev.analysis).toFixed(1)}, --hosts x${(r.textHosts / prev.textHosts).toFixed(1)}, JSON x${(r.json / prev.json).toFixed(1)}` : '';
  process.stdout.write(`${String(r.hosts).padEnd(10)} ${f(r.analysis).padStart(6)} ms ${f(r.text).padStart(6)} ms ${f(r.textHosts).padStart(9)} ms ${f(r.json).padStart(7)} ms (${(r.jsonBytes / 1e6).toFixed(1)} MB) ${f(r.waves).padStart(7)} ms (${r.waveCount})${growth}, waves x${prev ? (r.waves / prev.waves).toFixed(1) : '-'}\n`);
});
