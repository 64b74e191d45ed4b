import type { Command } from 'commander';
import { placementCheck } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import { openLab, requireLab } from '../lab/context.js';
import { labDown } from '../lab/down.js';
import { labStatus } from '../lab/status.js';
import { runLoad } from '../chaos/load/vegeta.js';
import { renderSummary } from '../chaos/load/summary.js';
import { withOptions } from './options.js';
import { action } from './run.js';
import { labUpOptions, renderStatus, runLabUp } from './labUp.js';
import { renderPlacementCheck } from './placementCommand.js';

interface DemoFlags {
  dir?: string;
  keep?: boolean;
  rate: string;
  duration: string;
}

const out = (text: string) => process.stdout.write(`${text}\n`);
const heading = (text: string) => out(`\n== ${text} ==`);

/**
 * The main job until game days land: lab up, blast radius of its inventory,
 * a short load through HAProxy, the lab's status, lab down.
 */
async function demo(flags: DemoFlags): Promise<number> {
  const load = loadFlags(flags);
  const opts = labUpOptions({ dir: flags.dir });
  const wasThere = openLab(opts.dir) !== undefined;
  heading('Bringing the lab up');
  const ms = await runLabUp(opts);
  out(`lab up in ${(ms / 1000).toFixed(1)} s (${opts.dir})`);
  const lab = requireLab(opts.dir);
  try {
    heading('Blast radius of the lab inventory');
    const check = placementCheck(lab.inventory);
    out(renderPlacementCheck(check, false));

    const { rate, duration } = load;
    heading(`Smoke load: ${rate} requests/s for ${duration} s through both proxies (vegeta)`);
    const seed = lab.state.seed;
    const summary = await runLoad({
      mix: { count: 2000, users: seed.users, notificationsPerUser: seed.notificationsPerUser, createPercent: 10, markReadPercent: 10 },
      frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })),
      ratePerS: rate,
      durationS: duration,
    });
    out(renderSummary(summary));
    const loadOk = summary.successRatio >= 0.99;
    out(loadOk ? 'threshold: success >= 99 %: passed' : 'threshold: success >= 99 %: FAILED');

    heading('Lab status');
    out(renderStatus(await labStatus(lab)));
    return check.ok && loadOk ? 0 : 1;
  } finally {
    if (flags.keep || wasThere) {
      out(`\nThe lab stays up (${wasThere ? 'it was up before' : '--keep'}): "gameday lab down" stops it.`);
    } else {
      heading('Bringing the lab down');
      const stopped = await labDown(lab);
      out(`stopped ${stopped.length} processes; no firewall table or lab folder left`);
    }
  }
}

function loadFlags(flags: DemoFlags): { rate: number; duration: number } {
  const rate = Number(flags.rate);
  const duration = Number(flags.duration);
  const bad = (flag: string, v: string) =>
    new GamedayError('BAD_FLAG', `must be a whole number in range, got "${v}"`, flag, `e.g. ${flag} 50`);
  if (!Number.isInteger(rate) || rate < 1 || rate > 5000) throw bad('--rate', flags.rate);
  if (!Number.isInteger(duration) || duration < 1 || duration > 3600) throw bad('--duration', flags.duration);
  return { rate, duration };
}

export function registerDemo(lab: Command): void {
  withOptions(lab.command('demo').description('The main job: lab up, blast-radius report, a short load through HAProxy, status, lab down'), 'dir')
    .option('--keep', 'leave the lab up at the end')
    .option('--rate <n>', 'requests per second of the smoke load', '50')
    .option('--duration <s>', 'seconds of smoke load', '15')
    .action(action((flags: DemoFlags) => demo(flags)));
}
