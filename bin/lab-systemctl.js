#!/usr/bin/env node
// The lab's systemctl (lab/systemctlMain.ts), run by ssh/bin/systemctl on a
// --power ssh lab's hosts: compiled when dist/ is current, as bin/gameday.js
// does, else from the sources (slower, but never a stale copy writing the
// lab's state).
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsCurrent } from './dist-current.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (distIsCurrent(root)) {
  await import('../dist/lab/systemctlMain.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../lab/systemctlMain.ts');
}
