import { parse as parseYaml } from 'yaml';
import { GamedayError } from '../core/errors.js';
import { parseInventory } from './load.js';
import { TIER_KINDS, type Inventory, type InventoryInput } from './schema.js';

/**
 * Reads an Ansible inventory (INI or YAML) into ours. Data centers keep their
 * fleet in Ansible; the failure domains live in host variables:
 *
 *   zone, rack        required (on the host or any of its groups)
 *   tier              the tier (default: the first group the host is listed in)
 *   role              primary | replica
 *   kind              the tier's kind (mariadb, redis, sentinel, haproxy, http, generic)
 *   min_healthy       the tier's minHealthy
 *   ansible_host      where gameday reaches it (default: the host's name)
 *   gameday_name      its name here, when the Ansible name is not one (a dotted FQDN)
 *   services          e.g. {"mysql": 3306} (YAML mapping, or JSON in INI)
 *
 * Variables are taken as Ansible does, roughly: the groups' (parents first,
 * `all` first of all), then the host's own. Pools are not in Ansible
 * inventories: add them to the written file.
 */
interface AnsibleHost {
  name: string;
  /** The groups that list it directly, in file order. */
  groups: string[];
  vars: Record<string, unknown>;
}

interface Parsed {
  hosts: Map<string, AnsibleHost>;
  groupVars: Map<string, Record<string, unknown>>;
  /** child group → its parent groups. */
  parents: Map<string, string[]>;
}

const empty = (): Parsed => ({ hosts: new Map(), groupVars: new Map(), parents: new Map() });

function addHost(p: Parsed, name: string, group: string | undefined, vars: Record<string, unknown>): void {
  const h = p.hosts.get(name) ?? { name, groups: [], vars: {} };
  if (group && !h.groups.includes(group)) h.groups.push(group);
  Object.assign(h.vars, vars);
  p.hosts.set(name, h);
}

/** web[01:03].example.com → web01…web03; Ansible's numeric ranges (letters are not expanded). */
function expandRange(pattern: string): string[] {
  const m = /^(.*)\[(\d+):(\d+)\](.*)$/.exec(pattern);
  if (!m) return [pattern];
  const [, head, from, to, tail] = m;
  const width = from.length;
  const out: string[] = [];
  for (let i = Number(from); i <= Number(to); i++) out.push(...expandRange(`${head}${String(i).padStart(width, '0')}${tail}`));
  return out;
}

/** An INI value: JSON when it parses as JSON (numbers, quoted strings, {"mysql": 3306}), else the text. */
function iniValue(text: string): unknown {
  const t = text.trim().replace(/^'(.*)'$/, '$1');
  try {
    return JSON.parse(t);
  } catch {
    return t;
  }
}

/** One key=value host variable: the value quoted with ' or " when it holds spaces, or a {…} mapping. */
const HOST_VAR = /(\S+?)=('(?:[^']*)'|"(?:[^"\\]|\\.)*"|\{[^}]*\}|\S+)/g;

function iniVars(text: string, where: string): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const m of text.matchAll(HOST_VAR)) vars[m[1]] = iniValue(m[2]);
  const rest = text.replace(HOST_VAR, '').trim();
  if (rest) throw new GamedayError('ANSIBLE_INVALID', `cannot read "${rest}" as key=value host variables`, where, 'write host variables as key=value (quote values with spaces)');
  return vars;
}

export function parseAnsibleIni(text: string, source: string): Parsed {
  const p = empty();
  let section: { group: string; kind: 'hosts' | 'vars' | 'children' } = { group: 'ungrouped', kind: 'hosts' };
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/^\s*[#;].*$/, '').trim();
    if (!line) return;
    const where = `${source}:${i + 1}`;
    const header = /^\[([^\]:]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      section = { group: header[1], kind: (header[2] as 'vars' | 'children' | undefined) ?? 'hosts' };
      return;
    }
    if (section.kind === 'vars') {
      const m = /^([^=\s]+)\s*=\s*(.*)$/.exec(line);
      if (!m) throw new GamedayError('ANSIBLE_INVALID', `"${line}" is not key=value in [${section.group}:vars]`, where, 'write group variables as key=value, one per line');
      p.groupVars.set(section.group, { ...(p.groupVars.get(section.group) ?? {}), [m[1]]: iniValue(m[2]) });
    } else if (section.kind === 'children') {
      p.parents.set(line, [...(p.parents.get(line) ?? []), section.group]);
    } else {
      const [pattern, ...rest] = line.split(/\s+/);
      const vars = iniVars(rest.join(' '), where);
      for (const name of expandRange(pattern)) addHost(p, name, section.group === 'ungrouped' ? undefined : section.group, vars);
    }
  });
  return p;
}

type YamlGroup = { hosts?: Record<string, Record<string, unknown> | null>; vars?: Record<string, unknown>; children?: Record<string, YamlGroup | null> };

export function parseAnsibleYaml(data: unknown, source: string): Parsed {
  const p = empty();
  const isMap = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  const walk = (group: string, g: unknown, path: string) => {
    if (g === null || g === undefined) return;
    if (!isMap(g)) throw new GamedayError('ANSIBLE_INVALID', `${path} is not a group (hosts, vars, children)`, source, 'see Ansible\'s YAML inventory format');
    const { hosts, vars, children } = g as YamlGroup;
    if (vars !== undefined && !isMap(vars)) throw new GamedayError('ANSIBLE_INVALID', `${path}.vars is not a mapping`, source, 'write group variables as a mapping');
    if (vars) p.groupVars.set(group, { ...(p.groupVars.get(group) ?? {}), ...vars });
    for (const [pattern, hv] of Object.entries(hosts ?? {})) {
      if (hv !== null && !isMap(hv)) throw new GamedayError('ANSIBLE_INVALID', `${path}.hosts.${pattern} is not a mapping of host variables`, source, 'write host variables as a mapping (or nothing)');
      for (const name of expandRange(pattern)) addHost(p, name, group === 'all' ? undefined : group, hv ?? {});
    }
    for (const [child, cg] of Object.entries(children ?? {})) {
      p.parents.set(child, [...(p.parents.get(child) ?? []), group]);
      walk(child, cg, `${path}.children.${child}`);
    }
  };
  if (!isMap(data)) throw new GamedayError('ANSIBLE_INVALID', 'not an Ansible YAML inventory (a mapping of groups, usually all:)', source, 'give an Ansible inventory in INI or YAML');
  for (const [group, g] of Object.entries(data)) walk(group, g, group);
  return p;
}

/** The host's variables as Ansible layers them: all, then its groups' ancestors, then its groups, then its own. */
function varsOf(p: Parsed, h: AnsibleHost): Record<string, unknown> {
  const seen = new Set<string>();
  const order: string[] = [];
  const visit = (g: string) => {
    if (seen.has(g)) return;
    seen.add(g);
    for (const parent of p.parents.get(g) ?? []) visit(parent);
    order.push(g);
  };
  visit('all');
  for (const g of h.groups) visit(g);
  return Object.assign({}, ...order.map((g) => p.groupVars.get(g) ?? {}), h.vars);
}

const NAME = /^[a-z0-9][a-z0-9-]*$/;

/** Our inventory from a parsed Ansible one; every missing variable is named with the host and how to add it. */
export function inventoryFromAnsible(p: Parsed, name: string, source: string): Inventory {
  const problems: string[] = [];
  const tiers: NonNullable<InventoryInput['tiers']> = {};
  const hosts: NonNullable<InventoryInput['hosts']> = [];
  for (const h of p.hosts.values()) {
    const v = varsOf(p, h);
    const str = (key: string) => (v[key] === undefined || v[key] === null ? undefined : String(v[key]));
    const ourName = str('gameday_name') ?? h.name;
    if (!NAME.test(ourName)) {
      problems.push(`host ${h.name}: "${ourName}" is not a gameday host name (lowercase letters, digits, dashes); set gameday_name=<name> on it`);
      continue;
    }
    const tier = str('tier') ?? h.groups[0];
    const zone = str('zone');
    const rack = str('rack');
    for (const [key, value] of [['tier', tier], ['zone', zone], ['rack', rack]] as const) {
      if (value === undefined) problems.push(`host ${h.name}: no ${key}; set ${key}=<${key}> on the host or one of its groups`);
    }
    if (tier === undefined || zone === undefined || rack === undefined) continue;
    const kind = str('kind');
    if (kind !== undefined && !(TIER_KINDS as readonly string[]).includes(kind)) problems.push(`host ${h.name}: kind "${kind}" is not one of ${TIER_KINDS.join(', ')}`);
    const spec = (tiers[tier] ??= {});
    if (kind !== undefined) {
      if (spec.kind !== undefined && spec.kind !== kind) problems.push(`tier ${tier}: its hosts disagree on kind (${spec.kind}, ${kind}); set it on the tier's group`);
      spec.kind = kind as (typeof TIER_KINDS)[number];
    }
    if (v.min_healthy !== undefined) spec.minHealthy = Number(v.min_healthy);
    const services = v.services;
    hosts.push({
      name: ourName,
      tier,
      zone,
      rack,
      address: str('ansible_host') ?? h.name,
      ...(str('role') !== undefined ? { role: str('role') as 'primary' | 'replica' } : {}),
      ...(services !== undefined ? { services: services as Record<string, number> } : {}),
    });
  }
  if (p.hosts.size === 0) problems.push('no hosts');
  if (problems.length > 0) throw new GamedayError('ANSIBLE_INVALID', `cannot make an inventory of it:\n  - ${problems.join('\n  - ')}`, source, 'add the variables named above (host variables, or [group:vars])');
  return parseInventory({ name, tiers, hosts }, `${source} (read as Ansible)`);
}

/** An Ansible inventory's text, INI or YAML (by its name, else by its content). */
export function inventoryFromAnsibleText(text: string, name: string, source: string): Inventory {
  const yaml = /\.ya?ml$/i.test(source) || (!/\.(ini|cfg|hosts)$/i.test(source) && /^\s*all\s*:/m.test(text) && !/^\s*\[/m.test(text));
  if (!yaml) return inventoryFromAnsible(parseAnsibleIni(text, source), name, source);
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (err) {
    throw new GamedayError('ANSIBLE_INVALID', `not valid YAML: ${(err as Error).message}`, source, 'fix the YAML syntax');
  }
  return inventoryFromAnsible(parseAnsibleYaml(data, source), name, source);
}
