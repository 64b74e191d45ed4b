import { PROJECT_ROOT } from '../../core/paths.js';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from '../../drivers/exec.js';
import { GamedayError } from '../../core/errors.js';
import { buildTargets, LOAD_HOST, type LoadMix } from './targets.js';
import { summarize, type LoadSummary, type VegetaResult } from './summary.js';
import { isLabAddress } from '../../core/labAddresses.js';
import { routesIntoLab } from '../../drivers/net/route.js';

/** Where `npm start` installs vegeta when it is not on PATH. */
export const PROJECT_VEGETA = join(PROJECT_ROOT, '.gameday/bin/vegeta');

export async function findVegeta(): Promise<string> {
  try {
    const { stdout } = await execa('sh', ['-c', 'command -v vegeta']);
    if (stdout.trim()) return stdout.trim();
  } catch {
    /* not on PATH */
  }
  if (existsSync(PROJECT_VEGETA)) return PROJECT_VEGETA;
  throw new GamedayError('LOAD_TOOL_MISSING', 'the load generator vegeta is not installed', 'vegeta', 'run "npm start" (it builds vegeta with go install) or scripts/setup.sh');
}

export interface LoadOptions {
  mix: LoadMix;
  /** The web frontends (the proxies) the load round-robins over. */
  frontends: Array<{ address: string; port: number }>;
  ratePerS: number;
  durationS: number;
  timeoutS?: number;
}

/**
 * Runs a constant-rate load (open model: requests keep coming whatever the
 * latency, as users do) with vegeta, and summarizes every request's result.
 */
export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  for (const f of opts.frontends) {
    // Loopback, or a lab host the machine reaches through the lab's own bridge: never any other network.
    if (!f.address.startsWith('127.') && !(isLabAddress(f.address) && (await routesIntoLab(f.address)))) {
      throw new GamedayError('LOAD_NOT_LOOPBACK', `load only goes to loopback addresses or to a running lab's hosts, not ${f.address}`, f.address, 'point the load at the lab ("gameday lab up" first)');
    }
  }
  const vegeta = await findVegeta();
  const work = mkdtempSync(join(tmpdir(), 'gameday-load-'));
  try {
    const port = opts.frontends[0].port;
    const targets = join(work, 'targets.jsonl');
    writeFileSync(targets, buildTargets(opts.mix, port).map((t) => JSON.stringify(t)).join('\n') + '\n');
    const results = join(work, 'results.bin');
    const connectTo = opts.frontends.flatMap((f) => ['-connect-to', `${LOAD_HOST}:${port}:${f.address}:${f.port}`]);
    await execa(vegeta, [
      'attack', '-format=json', `-targets=${targets}`, `-rate=${opts.ratePerS}/1s`, `-duration=${opts.durationS}s`,
      `-timeout=${opts.timeoutS ?? 5}s`, '-max-body=0', `-output=${results}`, ...connectTo,
    ]);
    const { stdout } = await execa(vegeta, ['encode', '--to', 'json', results], { maxBuffer: 512 * 1024 * 1024 });
    const parsed = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as VegetaResult);
    return summarize(parsed);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
