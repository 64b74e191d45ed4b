import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { expectationFor, judge, MAIN_JOB_EXPECTATIONS } from '../../../scripts/expected-verdicts.js';
import { sampleReport } from '../../fixtures/gameday-report.js';
import { repoRoot } from '../../fixtures/runbooks/helpers.js';
import type { GameDayReport } from '../../../chaos/report/types.js';

const check = (id: string, passed: boolean) => ({ id, title: id, status: (passed ? 'held' : 'failed') as 'held' | 'failed' | 'inconclusive', passed, detail: `${id} ${passed ? 'held' : 'failed'}`, measured: {}, at: '2025-05-14T10:01:00.000Z' });
const report = (name: string, verdict: GameDayReport['verdict'], checks: ReturnType<typeof check>[]) => {
  const r = sampleReport({ verdict, checks });
  return { ...r, scenario: { ...r.scenario, name } };
};
const ALL = ['dead-servers-leave-pools', 'writes-resume', 'reads-resume', 'one-writable-primary', 'no-lost-writes', 'error-budget'];

describe('the main job\'s expected verdicts', () => {
  it('has an expectation for every game day the main job runs, and none it does not run', () => {
    const job = readFileSync(join(repoRoot, 'scripts/main-job.sh'), 'utf8');
    const runs = [...job.matchAll(/^run_game_day (\S+) (\S+)$/gm)].map((m) => `${m[1]} ${m[2]}`);
    expect(runs.length).toBeGreaterThan(0);
    expect(MAIN_JOB_EXPECTATIONS.map((e) => `${e.scenario} ${e.layout}`).sort()).toEqual([...runs].sort());
  });

  it('takes a game day that passed with every check held as expected on the spread layout', () => {
    const r = report('zone-az-a', 'passed', ALL.map((id) => check(id, true)));
    expect(judge(r, expectationFor('zone-az-a', 'spread')!)).toEqual({ asExpected: true, reasons: [] });
  });

  it('names the verdict and the failed check when a spread game day fails', () => {
    const r = report('zone-az-a', 'failed', ALL.map((id) => check(id, id !== 'dead-servers-leave-pools')));
    const j = judge(r, expectationFor('zone-az-a', 'spread')!);
    expect(j.asExpected).toBe(false);
    expect(j.reasons).toEqual(['the verdict is failed, expected passed', 'dead-servers-leave-pools failed: dead-servers-leave-pools failed']);
  });

  it('does not take an inconclusive check as held', () => {
    const r = report('rack-b1', 'passed', [{ ...check('no-stale-reads', true), status: 'inconclusive' as const }]);
    expect(judge(r, expectationFor('rack-b1', 'spread')!).reasons).toEqual(['no-stale-reads inconclusive: no-stale-reads held']);
  });

  it('refuses a 2017 replay that passes on the 2017 layout, or fails without its writes, reads and error budget failing', () => {
    const e = expectationFor('replay-2017', 'outage-2017')!;
    expect(judge(report('replay-2017', 'passed', ALL.map((id) => check(id, true))), e).asExpected).toBe(false);
    const onlyBudget = judge(report('replay-2017', 'failed', ALL.map((id) => check(id, id !== 'error-budget'))), e);
    expect(onlyBudget.reasons).toEqual(['writes-resume held, expected failed: writes-resume held', 'reads-resume held, expected failed: reads-resume held']);
    const asIn2017 = judge(report('replay-2017', 'failed', ALL.map((id) => check(id, !['writes-resume', 'reads-resume', 'error-budget'].includes(id)))), e);
    expect(asIn2017).toEqual({ asExpected: true, reasons: [] });
  });

  it('exits 1 and says NOT as expected for a report that differs, 0 for one that does not (the script the main job runs)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-verdicts-'));
    const run = (r: GameDayReport, layout: string) => {
      const file = join(dir, `${r.scenario.name}-${layout}-${r.verdict}.json`);
      writeFileSync(file, JSON.stringify(r));
      return execa(process.execPath, ['--import', 'tsx', 'scripts/expected-verdicts.ts', file, layout], { cwd: repoRoot, reject: false });
    };
    const differs = await run(report('rack-b1', 'failed', ALL.map((id) => check(id, id !== 'writes-resume'))), 'spread');
    expect(differs.exitCode).toBe(1);
    expect(differs.stdout).toContain('NOT as expected');
    expect(differs.stdout).toContain('writes-resume failed');
    const same = await run(report('rack-b1', 'passed', ALL.map((id) => check(id, true))), 'spread');
    expect(same.exitCode).toBe(0);
    expect(same.stdout).toContain('as expected: passed');
    const unknown = await run(report('zone-az-b', 'passed', []), 'spread');
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('no expected verdict for zone-az-b on the spread layout');
  });
});
