import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterEach, describe, expect, it } from 'vitest';
import { repoRoot, tempDirs } from '../../fixtures/runbooks/helpers.js';

const tmp = tempDirs();
afterEach(() => tmp.cleanup());

/** One process: takes the lab lock, reads the counter, waits, writes it plus one (lost updates if two hold it at once). */
const TAKER = `
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { withLabLock } from './lab/labLock.ts';
const [dir, counter] = process.argv.slice(-2);
for (let i = 0; i < 5; i++) {
  await withLabLock(dir, 'count', async () => {
    const n = Number(readFileSync(counter, 'utf8'));
    await sleep(5);
    writeFileSync(counter, String(n + 1));
  });
}
`;

describe('the lab lock', () => {
  it('lets one process at a time in: eight processes adding one five times each lose no update', async () => {
    const work = tmp.make();
    const counter = join(work, 'counter');
    writeFileSync(counter, '0');
    const script = join(repoRoot, `.lab-lock-taker-${process.pid}.mts`);
    writeFileSync(script, TAKER);
    try {
      await Promise.all(Array.from({ length: 8 }, () => execa(process.execPath, ['--import', 'tsx', script, join(work, 'lab'), counter], { cwd: repoRoot })));
    } finally {
      (await import('node:fs')).rmSync(script, { force: true });
    }
    expect(readFileSync(counter, 'utf8')).toBe('40');
    // Released, and no temporary record left beside it.
    expect(existsSync(`${join(work, 'lab')}.lock`)).toBe(false);
    expect((await import('node:fs')).readdirSync(work).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  }, 60_000);
});
