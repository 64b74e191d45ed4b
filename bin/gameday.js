#!/usr/bin/env node
// Entry point. Runs the compiled CLI in dist/ (built by scripts/setup.sh or
// `npm run build`) when it is at least as new as every TypeScript source;
// otherwise (a source edited since the build, or no build) runs the sources
// through tsx, which is slower to start but always current.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCE_DIRS = ['core', 'engine', 'cli', 'topology', 'drivers', 'lab', 'runbooks', 'chaos', 'warmup', 'infra'];

function builtAt() {
  try {
    return statSync(join(root, 'dist', '.built')).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const built = process.env.GAMEDAY_FROM_SOURCE === '1' ? undefined : builtAt();
if (built !== undefined && SOURCE_DIRS.every((d) => newestSource(join(root, d)) <= built)) {
  await import('../dist/cli/main.js');
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../cli/main.ts');
}
