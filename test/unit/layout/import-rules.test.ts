import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../fixtures/runbooks/helpers.js';

/**
 * The import rules of docs/design.md ("Folders and what each may import"),
 * held against the code: each file may import only from its own folder and
 * the folders its row names, and no files (nor the sub-folders of any one
 * folder) import each other in a circle. The table is read from the doc, so
 * the doc and the code cannot drift apart unnoticed.
 */

type Rules = Map<string, Set<string> | 'everything'>;
/** file (repository path) -> the repository paths it imports */
type ImportGraph = Map<string, string[]>;

const DESIGN = join(repoRoot, 'docs/design.md');

/** The table's rows: folder -> the folders it may import ('everything', or a set; empty for "nothing"). */
function readRules(markdown: string): Rules {
  const start = markdown.indexOf('### Folders and what each may import');
  if (start < 0) throw new Error('docs/design.md has no "Folders and what each may import" section');
  const section = markdown.slice(start).split('\n### ')[0];
  const rules: Rules = new Map();
  for (const line of section.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 5 || !cells[1].startsWith('`')) continue;
    const folders = [...cells[1].matchAll(/`([^`]+)\/`/g)].map((m) => m[1]);
    const allowedCell = cells[3];
    const allowed = allowedCell === 'everything' ? 'everything' : new Set([...allowedCell.matchAll(/`([^`]+)\/`/g)].map((m) => m[1]));
    for (const f of folders) rules.set(f, allowed);
  }
  return rules;
}

const IMPORT = /(?:\bfrom\s+|\bimport\s*\(\s*|^import\s+)'(\.{1,2}\/[^']+)'/gm;

/** Every relative import of every tracked TypeScript source (and bin/), resolved to repository paths. */
function importGraph(): ImportGraph {
  const files = execFileSync('git', ['ls-files', '*.ts', 'bin/*.js'], { cwd: repoRoot, encoding: 'utf8' }).split('\n').filter(Boolean);
  const graph: ImportGraph = new Map();
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const targets = [...text.matchAll(IMPORT)].map((m) => normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts').replace(/^dist\//, ''));
    graph.set(file, targets);
  }
  return graph;
}

const topFolder = (path: string): string => (path.includes('/') ? path.split('/')[0] : '.');

/** Imports that cross into a folder the importer's row does not name. */
function forbiddenImports(graph: ImportGraph, rules: Rules): string[] {
  const wrong: string[] = [];
  for (const [file, targets] of graph) {
    const from = topFolder(file);
    if (from === '.') continue; // vitest.config.ts and the like: tooling, not a room
    const allowed = rules.get(from);
    if (!allowed) {
      wrong.push(`${file}: folder ${from}/ has no row in docs/design.md's import table`);
      continue;
    }
    for (const target of targets) {
      const to = topFolder(target);
      if (to === from || allowed === 'everything' || allowed.has(to)) continue;
      wrong.push(`${file} imports ${target}: ${from}/ may import ${[...allowed].map((a) => `${a}/`).join(', ') || 'nothing of the project'}`);
    }
  }
  return wrong;
}

/** Circles in a directed graph (Tarjan's strongly connected components of more than one node). */
function circles(edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const stack: string[] = [];
  const seen = new Map<string, { index: number; low: number; onStack: boolean }>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    const me = { index, low: index, onStack: true };
    index += 1;
    seen.set(v, me);
    stack.push(v);
    for (const w of edges.get(v) ?? []) {
      const other = seen.get(w);
      if (!other) {
        visit(w);
        me.low = Math.min(me.low, seen.get(w)!.low);
      } else if (other.onStack) me.low = Math.min(me.low, other.index);
    }
    if (me.low === me.index) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        seen.get(w)!.onStack = false;
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of edges.keys()) if (!seen.has(v)) visit(v);
  return found;
}

/** Circles between files, and between the direct children (files or sub-folders) of every folder. */
function importCircles(graph: ImportGraph): string[] {
  const fileEdges = new Map<string, Set<string>>();
  const roomEdges = new Map<string, Set<string>>();
  const addEdge = (m: Map<string, Set<string>>, a: string, b: string) => m.set(a, (m.get(a) ?? new Set()).add(b));
  for (const [file, targets] of graph) {
    if (file.startsWith('test/')) continue; // tests may reach across rooms; the rooms themselves may not loop
    for (const target of targets) {
      if (!graph.has(target)) continue;
      addEdge(fileEdges, file, target);
      // The folder both sit in, and the child of it each one belongs to.
      const a = file.split('/');
      const b = target.split('/');
      let depth = 0;
      while (depth < a.length - 1 && depth < b.length - 1 && a[depth] === b[depth]) depth += 1;
      const childA = a.slice(0, depth + 1).join('/');
      const childB = b.slice(0, depth + 1).join('/');
      if (childA !== childB && (depth < a.length - 1 || depth < b.length - 1)) addEdge(roomEdges, childA, childB);
    }
  }
  return [...circles(fileEdges).map((c) => `files import each other in a circle: ${c.join(' <-> ')}`), ...circles(roomEdges).map((c) => `folders import each other in a circle: ${c.join(' <-> ')}`)];
}

describe('the import rules of docs/design.md', () => {
  const rules = readRules(readFileSync(DESIGN, 'utf8'));
  const graph = importGraph();

  it('reads a row for every folder of the code', () => {
    for (const folder of ['core', 'topology', 'drivers', 'warmup', 'engine', 'runbooks', 'chaos', 'lab', 'infra', 'cli', 'bench', 'scripts', 'test', 'bin']) {
      expect(rules.has(folder), `no row for ${folder}/`).toBe(true);
    }
    expect(rules.get('core')).toEqual(new Set());
  });

  it('holds: no file imports what its folder may not', () => {
    expect(forbiddenImports(graph, rules)).toEqual([]);
  });

  it('holds: no circle between files, nor between the rooms of any folder', () => {
    expect(importCircles(graph)).toEqual([]);
  });

  it('catches a wrong import and a circle (the checks can fail)', () => {
    const wrong: ImportGraph = new Map([
      ['drivers/mysql/x.ts', ['runbooks/rebootStale.ts', 'core/log.ts']],
      ['runbooks/rebootStale.ts', ['drivers/mysql/x.ts']],
      ['chaos/checks/a.ts', ['chaos/report/b.ts']],
      ['chaos/report/b.ts', ['chaos/record.ts']],
      ['chaos/record.ts', ['chaos/checks/c.ts']],
      ['chaos/checks/c.ts', []],
    ]);
    expect(forbiddenImports(wrong, rules)).toEqual(['drivers/mysql/x.ts imports runbooks/rebootStale.ts: drivers/ may import topology/, core/']);
    expect(importCircles(wrong)).toEqual([
      'files import each other in a circle: drivers/mysql/x.ts <-> runbooks/rebootStale.ts',
      'folders import each other in a circle: drivers <-> runbooks',
      'folders import each other in a circle: chaos/checks <-> chaos/record.ts <-> chaos/report',
    ]);
  });
});
