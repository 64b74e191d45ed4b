import { blastRadius, kindOf, type Inventory } from '../../topology/index.js';
import { textTable } from '../../core/textTable.js';
import { formatDuration } from '../../core/duration.js';
import { formatCycleEstimate } from './cycleEstimate.js';
import type { CycleEstimate } from './cycleEstimate.js';
import type { Wave } from './waves.js';

/*
 * The summary `runbook plan reboot-stale` leads with: what a person reads in
 * ten seconds before the full step list (--steps): the waves, what each one's
 * loss leaves, the hosts refused and why, the hand-offs, the cycle estimate.
 */

/** What the summary reads of a reboot-stale plan. */
export interface OverviewPlan {
  uptimes: Record<string, number>;
  stale: string[];
  waves: Wave[];
  refused: Array<{ host: string; reason: string }>;
  unreadable?: Array<{ host: string; reason: string }>;
  estimate?: CycleEstimate;
  handOffs?: Record<string, string>;
  outsideWindow?: string;
  uptimeSource?: string;
}

const MAX_ROWS = 20;
/** 180d rather than 180d0h, 1m rather than 1m00s. */
const short = (ms: number) => formatDuration(ms).replace(/^(\d+[dhm])0+[hms]$/, '$1').replace(/^(\d+)\.0s$/, '$1s');
const MAX_NAMES = 3;

/** What runs in a wave, by kind, with the primaries named: "2 mariadb, 1 redis, 3 http; primaries db-1". */
function whatRuns(hosts: string[], inv: Inventory): string {
  const byName = new Map(inv.hosts.map((h) => [h.name, h]));
  const kinds = new Map<string, number>();
  const primaries: string[] = [];
  for (const n of hosts) {
    const h = byName.get(n);
    if (!h) continue;
    const kind = kindOf(inv, h);
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
    if (h.role === 'primary') primaries.push(n);
  }
  const shown = primaries.slice(0, MAX_NAMES).join(', ') + (primaries.length > MAX_NAMES ? ` +${primaries.length - MAX_NAMES}` : '');
  return [...kinds].map(([k, n]) => `${n} ${k}`).join(', ') + (primaries.length ? `; primaries ${shown}` : '');
}

/** What the wave's loss leaves of each tier it touches: "db 2/3 failover, app 2/3". */
function leaves(hosts: string[], inv: Inventory): string {
  const impact = blastRadius(inv, { kind: 'host', name: 'wave', hosts });
  const tiers = impact.tiers.filter((t) => t.lost.length > 0).map((t) => `${t.tier} ${t.leftCount}/${t.total}${t.holds ? '' : ' BREAKS'}`);
  return `${tiers.join(', ')}${impact.holds ? '' : ' - BREAKS'}`;
}

export function rebootStaleOverview(plan: OverviewPlan, inv: Inventory, maxUptimeMs: number): string[] {
  const lines: string[] = [];
  const checked = Object.keys(plan.uptimes).length + (plan.unreadable?.length ?? 0);
  lines.push(`${checked} hosts checked: ${plan.stale.length} up ${short(maxUptimeMs)} or longer, ${plan.stale.length - plan.refused.length} to reboot in ${plan.waves.length} wave${plan.waves.length === 1 ? '' : 's'} (one zone at a time), ${plan.refused.length} refused`);
  if (plan.uptimeSource) lines.push(`PREVIEW: uptimes from ${plan.uptimeSource}, not from the hosts; a run reads them from the hosts and may plan other waves`);
  const unreadable = plan.unreadable ?? [];
  if (unreadable.length) {
    lines.push(`UPTIME UNKNOWN for ${unreadable.length} host${unreadable.length === 1 ? '' : 's'}: not rebooted by this run, the others go on; look at ${unreadable.length === 1 ? 'it' : 'them'} (the waves do not count ${unreadable.length === 1 ? 'it' : 'them'} as down: if ${unreadable.length === 1 ? 'it is' : 'they are'}, a wave may leave ${unreadable.length === 1 ? 'its' : 'their'} tier short):`);
    for (const u of unreadable.slice(0, MAX_ROWS)) lines.push(`  ${u.host}: ${u.reason}`);
    if (unreadable.length > MAX_ROWS) lines.push(`  … ${unreadable.length - MAX_ROWS} more`);
  }
  if (plan.outsideWindow) lines.push(`not now: ${plan.outsideWindow}; a run started now would refuse (exit 2) and act only inside the window`);
  if (plan.estimate) lines.push(`estimate: ${formatCycleEstimate(plan.estimate, { oneByOneNow: true })}`);
  if (plan.waves.length) {
    const perHost = plan.estimate?.hostMs;
    const rows = plan.waves.slice(0, MAX_ROWS).map((w, i) => [
      String(i + 1),
      w.zone,
      String(w.hosts.length),
      whatRuns(w.hosts, inv),
      leaves(w.hosts, inv),
      perHost ? `~${short(perHost * Math.ceil(w.hosts.length / (plan.estimate?.concurrency ?? 1)))}` : '',
    ]);
    lines.push('', textTable(['wave', 'zone', 'hosts', 'what runs there', 'while down, left', 'takes'], rows));
    if (plan.waves.length > MAX_ROWS) lines.push(`… ${plan.waves.length - MAX_ROWS} more waves (--all-steps or --json lists them all)`);
  }
  const handOffs = Object.entries(plan.handOffs ?? {});
  if (handOffs.length) {
    lines.push('', `hand-offs before the reboot (${handOffs.length}; the others have no role to hand off):`);
    for (const [host, what] of handOffs.slice(0, MAX_ROWS)) lines.push(`  ${host}: ${what}`);
    if (handOffs.length > MAX_ROWS) lines.push(`  … ${handOffs.length - MAX_ROWS} more`);
  }
  if (plan.refused.length) {
    lines.push('', 'refused (their loss alone breaks a tier or pool):');
    for (const r of plan.refused.slice(0, MAX_ROWS)) lines.push(`  ${r.host}: ${r.reason}`);
    if (plan.refused.length > MAX_ROWS) lines.push(`  … ${plan.refused.length - MAX_ROWS} more`);
  }
  return lines;
}
