import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/*
 * The CLI runs either from the TypeScript sources (through tsx, while
 * developing) or from their compiled copy in dist/ (built by setup). The
 * project's own files (scenarios, tools, runbook sources) are found from the
 * project root either way.
 */
const here = dirname(fileURLToPath(import.meta.url));

/** True when this code runs from dist/ (compiled), false when from the .ts sources. */
export const COMPILED = here.split(sep).at(-2) === 'dist';

/** The repository's root folder. */
export const PROJECT_ROOT = COMPILED ? resolve(here, '../..') : resolve(here, '..');

/**
 * The TypeScript source of a module, given its import.meta.url: a runbook's
 * version is the hash of its source, the same whether it runs compiled or not.
 */
export function sourceFileOf(moduleUrl: string): string {
  const file = fileURLToPath(moduleUrl);
  if (!COMPILED) return file;
  return join(PROJECT_ROOT, relative(join(PROJECT_ROOT, 'dist'), file)).replace(/\.js$/, '.ts');
}

/**
 * Node's arguments to run one of the project's scripts (e.g.
 * 'lab/app/main.ts'): its compiled copy with plain node when the CLI
 * runs compiled, else the source through the tsx loader.
 */
export function nodeScriptArgs(script: string, ...args: string[]): string[] {
  if (COMPILED) return [join(PROJECT_ROOT, 'dist', script.replace(/\.ts$/, '.js')), ...args];
  return ['--import', 'tsx', join(PROJECT_ROOT, script), ...args];
}
