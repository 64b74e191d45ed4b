import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { GamedayError } from '../core/errors.js';

/** The runbook's version: sha256 of its module's source file. */
export function runbookVersion(sourceFile: string): string {
  let text: Buffer;
  try {
    text = readFileSync(sourceFile);
  } catch (err) {
    throw new GamedayError('RUNBOOK_SOURCE_UNREADABLE', `cannot read the runbook's source (${(err as NodeJS.ErrnoException).code ?? String(err)})`, sourceFile, 'the registry entry must name the module file (sourceFileOf(import.meta.url))');
  }
  return `sha256:${createHash('sha256').update(text).digest('hex')}`;
}
