// How the entry points start a module of the project: its compiled copy in
// dist/ (built by scripts/setup.sh or `npm run build`) when that is at least
// as new as every TypeScript source; otherwise (a source edited since the
// build, or no build) the source through tsx, slower to start but current.
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

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

function distIsCurrent() {
  const built = process.env.GAMEDAY_FROM_SOURCE === '1' ? undefined : builtAt();
  return built !== undefined && SOURCE_DIRS.every((d) => newestSource(join(root, d)) <= built);
}

/** Runs the module `name` (e.g. "cli/main"), compiled or from its source. */
export async function launch(name) {
  if (distIsCurrent()) return import(pathToFileURL(join(root, 'dist', `${name}.js`)).href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(pathToFileURL(join(root, `${name}.ts`)).href);
}
