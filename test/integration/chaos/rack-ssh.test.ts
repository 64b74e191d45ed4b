import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { openLab, type LabContext } from '../../../lab/context.js';
import { GAMEDAY, ownLabDown, ownLabUp } from '../helpers.js';

/**
 * A rack game day on a lab powered over ssh (lab up --power ssh, 198.18.44.x): the power-off goes through
 * gameday's ssh fault driver as on a fleet (every unit frozen, an nft table in the host cutting it off,
 * the units killed with systemctl), not through the lab's own driver.
 */
describe('a rack game day over ssh', () => {
  const root = mkdtempSync(join(tmpdir(), 'gameday-rack-ssh-'));
  const dir = join(root, 'lab');
  let lab: LabContext;

  beforeAll(async () => {
    // The default seed: rack-a1's load reads and writes the users a default lab has.
    lab = await ownLabUp({ dir, octet: 44, power: 'ssh' });
  }, 180_000);
  afterAll(() => ownLabDown(dir), 120_000);

  it('passes rack-a1 (the MariaDB primary lost, a replica promoted, the old primary rejoined with nothing errant), its power cut an nft table inside db-1', async () => {
    // What db-1's own namespace holds while the game day runs, every 200 ms.
    const tablesSeen = new Set<string>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const r = await execa('ip', ['netns', 'exec', lab.network.netns('db-1'), 'nft', 'list', 'tables'], { reject: false });
        for (const line of r.stdout.split('\n').filter(Boolean)) tablesSeen.add(line.trim());
        await sleep(200);
      }
    })();
    const run = await execa(process.execPath, [GAMEDAY, 'chaos', 'run', 'rack-a1', '--lab-dir', dir], {
      reject: false,
      env: { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(root, 'state') },
    });
    watching = false;
    await watcher;
    expect(run.exitCode, run.stdout.slice(-3000) + run.stderr.slice(-2000)).toBe(0);
    expect(run.stdout).toMatch(/rack-a1 on the spread layout: PASSED/);
    expect(run.stdout + run.stderr, "the timeline").toMatch(/response rejoin-db: succeeded/);
    expect([...tablesSeen]).toContain('table inet gameday_fault_loss');
    // The lab's own driver never powered anything off: the lab's state knows of no cut.
    expect(openLab(dir)!.state.poweredOff).toEqual([]);
    // And the undo took the cut away.
    const after = await execa('ip', ['netns', 'exec', lab.network.netns('db-1'), 'nft', 'list', 'tables']);
    expect(after.stdout).not.toContain('gameday_fault_');
  }, 240_000);
});
