import type { z } from 'zod';
import { GamedayError } from '../core/errors.js';
import type { Runbook } from './types.js';

/** One runbook parameter as a command-line flag: key maxUptime <-> --max-uptime. */
export interface ParamSpec {
  key: string;
  flag: string;
  kind: 'string' | 'number' | 'boolean' | 'enum' | 'array';
  /** For arrays: the kind of each element. */
  element?: 'string' | 'number' | 'enum';
  choices?: string[];
  description?: string;
  /** The default, when the schema declares one (shown as given to the schema). */
  default?: unknown;
  required: boolean;
}

type Def = { type: string; innerType?: z.ZodType; in?: z.ZodType; element?: z.ZodType; entries?: Record<string, unknown>; values?: unknown[]; defaultValue?: unknown; shape?: Record<string, z.ZodType> };

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

export function flagOf(key: string): string {
  return `--${key.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase()}`;
}

/** Walks through optional/default/pipe wrappers down to the input type. */
function describeSchema(schema: z.ZodType): Omit<ParamSpec, 'key' | 'flag'> {
  let s: z.ZodType | undefined = schema;
  let description: string | undefined;
  let required = true;
  let dflt: unknown;
  let hasDefault = false;
  for (let depth = 0; s && depth < 20; depth++) {
    description ??= (s as { description?: string }).description;
    const d = defOf(s);
    switch (d.type) {
      case 'optional':
      case 'nullable':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        if (d.type === 'optional') required = false;
        s = d.innerType;
        continue;
      case 'default':
      case 'prefault':
        required = false;
        if (!hasDefault) {
          dflt = d.defaultValue;
          hasDefault = true;
        }
        s = d.innerType;
        continue;
      case 'pipe':
        s = d.in;
        continue;
      case 'number':
      case 'int':
        return { kind: 'number', description, required, default: dflt };
      case 'boolean':
        return { kind: 'boolean', description, required, default: dflt };
      case 'enum':
        return { kind: 'enum', choices: Object.values(d.entries ?? {}).map(String), description, required, default: dflt };
      case 'literal':
        return { kind: 'enum', choices: (d.values ?? []).map(String), description, required, default: dflt };
      case 'array': {
        const el = d.element ? describeSchema(d.element) : undefined;
        const element = el?.kind === 'number' ? 'number' : el?.kind === 'enum' ? 'enum' : 'string';
        return { kind: 'array', element, choices: el?.choices, description, required, default: dflt };
      }
      default:
        return { kind: 'string', description, required, default: dflt };
    }
  }
  return { kind: 'string', description, required, default: dflt };
}

/** The flags of a runbook: one per key of its params object schema, in declaration order. */
export function paramSpecs(runbook: Pick<Runbook, 'params'>): ParamSpec[] {
  const d = defOf(runbook.params);
  if (d.type !== 'object' || !d.shape) return [];
  return Object.entries(d.shape).map(([key, schema]) => ({ key, flag: flagOf(key), ...describeSchema(schema) }));
}

function convert(spec: ParamSpec, kind: 'string' | 'number' | 'enum', value: string): unknown {
  if (kind === 'number') {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) {
      throw new GamedayError('BAD_PARAM', `not a number: "${value}"`, spec.flag, spec.description);
    }
    return n;
  }
  return value;
}

/**
 * Raw parameters from parsed flags (strings from commander): numbers become
 * numbers, repeated flags arrays. Absent flags stay absent (schema defaults apply).
 */
export function rawParamsFromFlags(specs: ParamSpec[], flags: Record<string, unknown>): Record<string, unknown> {
  const raw: Record<string, unknown> = {};
  for (const spec of specs) {
    const v = flags[spec.key];
    if (v === undefined) continue;
    if (spec.kind === 'boolean') raw[spec.key] = Boolean(v);
    else if (spec.kind === 'array') raw[spec.key] = (Array.isArray(v) ? v : [v]).map((x) => convert(spec, spec.element ?? 'string', String(x)));
    else raw[spec.key] = convert(spec, spec.kind, String(v));
  }
  return raw;
}

/** Validates raw parameters with the runbook's schema; one GamedayError naming the flag when bad. */
export function parseParams<P>(runbook: Pick<Runbook<P>, 'params' | 'name'>, raw: Record<string, unknown>): P {
  const result = runbook.params.safeParse(raw);
  if (result.success) return result.data;
  const specs = new Map(paramSpecs(runbook).map((s) => [s.key, s]));
  const messages = result.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const spec = specs.get(key);
    const flag = spec?.flag ?? (key ? flagOf(key) : `${runbook.name} parameters`);
    const missing = key !== '' && raw[key] === undefined && issue.code === 'invalid_type';
    let message = missing ? 'is required' : issue.message;
    if (spec?.choices && issue.code === 'invalid_value') message = `must be one of ${spec.choices.join(', ')}, got "${String(raw[key])}"`;
    return { flag, message, hint: spec?.description };
  });
  const [first, ...rest] = messages;
  const more = rest.length > 0 ? `; also ${rest.map((m) => `${m.flag}: ${m.message}`).join('; ')}` : '';
  throw new GamedayError('BAD_PARAM', `${first.message}${more}`, first.flag, first.hint ?? `"gameday runbook show ${runbook.name}" lists the parameters`);
}
