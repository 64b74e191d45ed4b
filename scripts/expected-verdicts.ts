/**
 * What each game day of the main job must show, and the judge of a report
 * against it. The main job (scripts/main-job.sh) runs this after each game
 * day: it prints the game day's checks, then "as expected" or "NOT as
 * expected" with why, and exits 1 when the verdict is not the expected one,
 * so CI catches a regression that makes every game day fail, or makes the
 * 2017 replay pass on the layout that lost 2017.
 *
 *   tsx scripts/expected-verdicts.ts <report.json> <layout>
 *
 * Exit 0: as expected; 1: not as expected; 2: no such game day in the table,
 * or a report that cannot be read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { GameDayReport } from '../chaos/report/types.js';
import { statusOf } from '../chaos/report/format.js';

export interface Expectation {
  scenario: string;
  layout: string;
  verdict: 'passed' | 'failed';
  /** For an expected failure: checks that must be among the failed ones. */
  mustFail?: string[];
  why: string;
}

export const MAIN_JOB_EXPECTATIONS: Expectation[] = [
  { scenario: 'rack-b1', layout: 'spread', verdict: 'passed', why: 'losing a replica\'s rack leaves every tier enough members' },
  { scenario: 'zone-az-a', layout: 'spread', verdict: 'passed', why: 'failover-db and Sentinel take over the primaries of the lost zone' },
  { scenario: 'replay-2017', layout: 'spread', verdict: 'passed', why: 'spread over racks, rack a2 holds one of each' },
  {
    scenario: 'replay-2017',
    layout: 'outage-2017',
    verdict: 'failed',
    mustFail: ['writes-resume', 'reads-resume', 'error-budget'],
    why: 'both proxies sit in rack a2, as in 2017: nothing serves until it is back',
  },
];

type Check = GameDayReport['checks'][number];
/** A check's state, from the report: held only when it observed its invariant hold (an old report says only passed or not). */
const checkState = (c: Check) => statusOf(c);

export function expectationFor(scenario: string, layout: string): Expectation | undefined {
  return MAIN_JOB_EXPECTATIONS.find((e) => e.scenario === scenario && e.layout === layout);
}

/** Whether a report shows what its expectation says; the reasons when it does not. */
export function judge(report: Pick<GameDayReport, 'verdict' | 'checks'>, e: Expectation): { asExpected: boolean; reasons: string[] } {
  const reasons: string[] = [];
  const checks = report.checks;
  if (report.verdict !== e.verdict) reasons.push(`the verdict is ${report.verdict}, expected ${e.verdict}`);
  if (e.verdict === 'passed') {
    for (const c of checks) if (checkState(c) !== 'held') reasons.push(`${c.id} ${checkState(c)}: ${c.detail}`);
    if (checks.length === 0) reasons.push('no check ran');
  }
  for (const id of e.mustFail ?? []) {
    const c = checks.find((x) => x.id === id);
    if (!c) reasons.push(`${id} did not run (it must fail)`);
    else if (checkState(c) !== 'failed') reasons.push(`${id} ${checkState(c)}, expected failed: ${c.detail}`);
  }
  return { asExpected: reasons.length === 0, reasons };
}

function summary(r: GameDayReport, layout: string): string[] {
  const lines = [`${r.scenario.name} on the ${layout} layout: ${r.verdict.toUpperCase()} (${r.verdictReason})`];
  for (const c of r.checks) lines.push(`  ${{ held: 'held  ', failed: 'FAILED', inconclusive: 'UNSURE' }[checkState(c)]} ${c.id}: ${c.detail}`);
  for (const n of r.checksNotApplicable ?? []) lines.push(`  n/a    ${n.id}: ${n.why}`);
  const k = r.load.byKind;
  lines.push(`  load: ${r.load.requests} requests, ${r.load.failed} failed (read ${k.read.failed}, create ${k.create.failed}, mark-read ${k['mark-read'].failed}), error window ${(r.load.errorWindowMs / 1000).toFixed(1)} s`);
  return lines;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [file, layout] = process.argv.slice(2);
  let report: GameDayReport;
  try {
    report = JSON.parse(readFileSync(file, 'utf8')) as GameDayReport;
  } catch (err) {
    console.error(`expected-verdicts: cannot read the report ${JSON.stringify(file)}: ${(err as Error).message}`);
    process.exit(2);
  }
  const e = expectationFor(report.scenario.name, layout);
  if (!e) {
    console.error(`expected-verdicts: no expected verdict for ${report.scenario.name} on the ${layout} layout; add it to MAIN_JOB_EXPECTATIONS in scripts/expected-verdicts.ts`);
    process.exit(2);
  }
  for (const line of summary(report, layout)) console.log(line);
  const { asExpected, reasons } = judge(report, e);
  console.log(asExpected ? `  as expected: ${e.verdict} (${e.why})` : `  NOT as expected (expected ${e.verdict}: ${e.why}):\n${reasons.map((x) => `    - ${x}`).join('\n')}`);
  process.exit(asExpected ? 0 : 1);
}
