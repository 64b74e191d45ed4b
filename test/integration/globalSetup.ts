import { chmodSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { labUp } from '../../lab/up.js';
import { labDown } from '../../lab/down.js';
import { openLab } from '../../lab/context.js';

/** The shared lab's addresses: 198.18.22.x, never a user's lab (127.20) nor the machine's 127.0.0.1. */
export const SHARED_LAB_OCTET = 22;

declare module 'vitest' {
  export interface ProvidedContext {
    labDir: string;
  }
}

/** One real lab for every integration file, brought up once and down at the end. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const parent = mkdtempSync(join(tmpdir(), 'gameday-it-'));
  // mkdtemp makes it 0700: MariaDB, Redis and HAProxy, which run as their own accounts, must pass through it to the lab.
  chmodSync(parent, 0o711);
  const dir = join(parent, 'lab');
  const started = Date.now();
  // The default seed, so the tests see the dataset users get (larger than the buffer pool).
  try {
    await labUp({ dir, octet: SHARED_LAB_OCTET });
  } catch (err) {
    // A lab that failed half-way up still has processes: stop them before failing the run.
    const half = openLab(dir);
    if (half) await labDown(half);
    throw err;
  }
  process.stderr.write(`integration lab up in ${((Date.now() - started) / 1000).toFixed(1)} s at ${dir}\n`);
  project.provide('labDir', dir);
  return async () => {
    const lab = openLab(dir);
    if (lab) await labDown(lab);
  };
}
