import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

describe('a zone game day on the Pulumi stack\'s inventory, as exported', () => {
  it('plans without error: the zone\'s EC2 instances, Auto Scaling slots and cache node, and what each tier keeps', async () => {
    const dir = tmp.make();
    const inventory = join(dir, 'stack.json');
    writeFileSync(inventory, JSON.stringify(JSON.parse(readFileSync('test/fixtures/pulumi-outputs.json', 'utf8')).inventory));
    const scenario = join(dir, 'zone-us-east-1a.yaml');
    writeFileSync(scenario, [
      'name: zone-us-east-1a',
      'description: Power loss of zone us-east-1a',
      'load: { rate: 40, warmup: 5s, duration: 45s }',
      'faults:',
      '  - { id: loss, type: power-off, target: { zone: us-east-1a }, at: 5s, for: 25s }',
      '',
    ].join('\n'));
    const r = await runCli(['chaos', 'plan', scenario, '--inventory', inventory], { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(dir, 'state') });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('power-off zone us-east-1a: web-1, web-4, db-1, db-proxy-1, redis-1; undone after 25 s');
    // No failover-db response: the plan says plainly that nothing will promote (before: "promote db-2 or db-3").
    expect(r.stdout).toContain('tier db (primary db-1 lost and nothing promotes db-2 or db-3 (no failover-db response): writes fail until someone runs it) (2 left, needs 2)');
    expect(r.stdout).toContain('pre-flight: every tier and pool keeps enough members');

    writeFileSync(scenario, `${readFileSync(scenario, 'utf8')}responses:\n  - { after: loss, runbook: failover-db, params: { primary: $lost-primary } }\n`);
    const answered = await runCli(['chaos', 'plan', scenario, '--inventory', inventory], { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(dir, 'state') });
    expect(answered.code, answered.stderr).toBe(0);
    expect(answered.stdout).toContain('tier db (primary db-1 lost: promote db-2 or db-3) (2 left, needs 2)');
  });
});
