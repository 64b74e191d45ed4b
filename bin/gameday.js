#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (built by scripts/setup.sh or
// `npm run build`) when it is at least as new as every TypeScript source;
// otherwise (a source edited since the build, or no build) runs the sources
// through tsx, which is slower to start but always current.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { distIsCurrent } from './dist-current.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (distIsCurrent(root)) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
