import { PROJECT_ROOT } from '../../core/paths.js';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { formatPath } from '../../topology/index.js';
import { GamedayError } from '../../core/errors.js';
import { scenarioSchema, type Scenario } from './schema.js';

/** The scenarios that ship with gameday. */
export const BUILT_IN_DIR = join(PROJECT_ROOT, 'chaos/scenarios') + '/';

const MAX_SCENARIO_BYTES = 1024 * 1024;

export interface LoadedScenario {
  scenario: Scenario;
  /** The file it came from. */
  file: string;
}

/** A built-in scenario's name, or a path to a YAML file. */
export function resolveScenarioFile(nameOrFile: string): string {
  const builtIn = join(BUILT_IN_DIR, `${nameOrFile}.yaml`);
  if (/^[a-z0-9-]+$/.test(nameOrFile) && existsSync(builtIn)) return builtIn;
  if (existsSync(nameOrFile) && statSync(nameOrFile).isFile()) return nameOrFile;
  throw new GamedayError('SCENARIO_NOT_FOUND', 'no built-in scenario of that name and no such file', nameOrFile, `"gameday chaos list" names the built-in scenarios; or give the path of a scenario YAML file`);
}

/** Reads, parses and validates a scenario; every problem is named with its file and field. */
export function loadScenario(nameOrFile: string): LoadedScenario {
  const file = resolveScenarioFile(nameOrFile);
  if (statSync(file).size > MAX_SCENARIO_BYTES) throw new GamedayError('SCENARIO_INVALID', 'the file is over 1 MB: not a scenario', file, 'a scenario is a short YAML file');
  let data: unknown;
  try {
    data = parseYaml(readFileSync(file, 'utf8'), { maxAliasCount: 100 });
  } catch (err) {
    throw new GamedayError('SCENARIO_INVALID', `not valid YAML: ${(err as Error).message.split('\n')[0]}`, file, 'fix the YAML syntax');
  }
  return { scenario: parseScenario(data, file), file };
}

export function parseScenario(data: unknown, source: string): Scenario {
  if (data === null || data === undefined) throw new GamedayError('SCENARIO_INVALID', 'the scenario is empty', source, 'write at least name, description and faults; see docs/game-days.md');
  const parsed = scenarioSchema.safeParse(data);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${formatPath(i.path)}: ${i.message}`);
    throw new GamedayError('SCENARIO_INVALID', problems.join('; '), source, 'see docs/game-days.md for the scenario format');
  }
  const scenario = parsed.data;
  scenario.faults.forEach((f, i) => (f.id ??= `fault-${i + 1}`));
  const problems = consistencyProblems(scenario);
  if (problems.length) throw new GamedayError('SCENARIO_INVALID', problems.join('; '), source, 'see docs/game-days.md for the scenario format');
  return scenario;
}

/** What the schema alone cannot see: duplicate ids, responses to no fault, faults after the load ends. */
function consistencyProblems(s: Scenario): string[] {
  const problems: string[] = [];
  const ids = s.faults.map((f) => f.id!);
  ids.forEach((id, i) => {
    if (ids.indexOf(id) !== i) problems.push(`faults[${i}].id: "${id}" is used twice`);
  });
  s.faults.forEach((f, i) => {
    const end = f.at + (f.for ?? 0);
    if (end > s.load.duration) problems.push(`faults[${i}]: ends at ${end / 1000} s, after the load (load.duration ${s.load.duration / 1000} s)`);
  });
  // A resume limit as long as the fault passes on the undo alone: recovery must be shown while the fault lasts.
  for (const [key, name] of [['writesResume', 'writes-resume'], ['readsResume', 'reads-resume']] as const) {
    const spec = s.checks[key];
    // Only a limit the scenario sets: the 5 s default is shorter than any fault that stops writes.
    const within = spec ? spec.within : undefined;
    s.faults.forEach((f, i) => {
      if (within !== undefined && f.for !== undefined && within >= f.for) problems.push(`checks.${key}.within: ${within / 1000} s is not shorter than faults[${i}] (for ${f.for / 1000} s): ${name} would hold on the undo alone; give it less than the fault lasts`);
    });
  }
  s.responses.forEach((r, i) => {
    if (!ids.includes(r.after)) problems.push(`responses[${i}].after: no fault has id "${r.after}" (ids: ${ids.join(', ')})`);
  });
  return problems;
}

/** Every built-in scenario, by name. */
export function listScenarios(): Array<LoadedScenario> {
  return readdirSync(BUILT_IN_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => loadScenario(basename(f, '.yaml')));
}
