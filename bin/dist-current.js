// Whether the compiled copy in dist/ is at least as new as every TypeScript
// source (bin/gameday.js and bin/lab-systemctl.js run it then, the sources
// through tsx otherwise).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['core', 'engine', 'cli', 'topology', 'drivers', 'lab', 'runbooks', 'chaos', 'warmup', 'infra'];

function builtAt(root) {
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

export function distIsCurrent(root) {
  const built = process.env.GAMEDAY_FROM_SOURCE === '1' ? undefined : builtAt(root);
  return built !== undefined && SOURCE_DIRS.every((d) => newestSource(join(root, d)) <= built);
}
