import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import type { Runbook, Step } from './types.js';
import { durationParam } from '../core/duration.js';
import { sourceFileOf } from '../core/paths.js';

/** The engine's own demo: a counter in a folder, changed by steps of every kind. Touches nothing else. */
export const sourceFile = sourceFileOf(import.meta.url);

const params = z.object({
  dir: z.string().min(1).default('.gameday/demo').describe('folder the demo keeps its counter and marker in'),
  increments: z.number().int().min(1).max(100).default(3).describe('how many times to add one to the counter (at-most-once actions)'),
  approve: z.boolean().default(false).describe('ask for an approval before the increments'),
  failAt: z.number().int().min(1).optional().describe('make increment N fail, to watch compensation and resume'),
  failWhile: z.string().min(1).optional().describe('the counter never settles while this file exists (the run fails at its wait): a cause mended between a run and its resume'),
  settle: durationParam('2s').describe('how long to wait for the counter to read the expected value'),
});
type Params = z.infer<typeof params>;

interface DemoPlan {
  dir: string;
  counterFile: string;
  start: number;
  increments: number;
}

function readCounter(file: string): number {
  return existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) || 0 : 0;
}

function writeCounter(file: string, value: number): void {
  writeFileSync(`${file}.tmp`, `${value}\n`);
  renameSync(`${file}.tmp`, file);
}

export const demoCounter: Runbook<Params, DemoPlan> = {
  name: 'demo-counter',
  summary: 'Shows the engine at work on a counter file: probe, actions, approval, wait-for, notify',
  description: [
    'Adds one to a counter file a few times. Each increment is an **at-most-once** action (it reads and',
    'adds), declared with a compensation (subtract one): when an increment fails (`--fail-at N`), the',
    'increments already done are undone, and `resume` starts again at the first of them. Kill the run',
    'in the middle and resume it to see the journal at work.',
  ].join('\n'),
  params,
  async resolve({ params: p }) {
    const dir = resolve(p.dir);
    const counterFile = join(dir, 'counter');
    return { dir, counterFile, start: readCounter(counterFile), increments: p.increments };
  },
  steps(plan, p) {
    const steps: Step[] = [
      {
        kind: 'probe',
        id: 'read-counter',
        title: 'Read the counter',
        run: async () => ({ value: readCounter(plan.counterFile) }),
      },
      {
        kind: 'action',
        id: 'write-marker',
        title: 'Write the marker file',
        semantics: 'idempotent',
        describe: () => ({ target: join(plan.dir, 'marker'), consequence: 'creates the demo folder and a marker file' }),
        run: async (ctx) => {
          mkdirSync(plan.dir, { recursive: true });
          writeFileSync(join(plan.dir, 'marker'), `${ctx.runId}\n`);
          return { marker: join(plan.dir, 'marker') };
        },
      },
    ];
    if (p.approve) {
      steps.push({ kind: 'approval', id: 'approve', title: 'Approve the increments', prompt: () => `Add ${plan.increments} to ${plan.counterFile}?` });
    }
    for (let i = 1; i <= plan.increments; i++) {
      steps.push({
        kind: 'action',
        id: `increment-${i}`,
        title: `Add one to the counter (${i} of ${plan.increments})`,
        group: 'increments',
        semantics: 'at-most-once',
        describe: () => ({ target: plan.counterFile, inputs: { add: 1 }, consequence: `counter ${plan.start + i - 1} -> ${plan.start + i}` }),
        run: async () => {
          if (p.failAt === i) throw new Error(`increment ${i} fails on purpose (--fail-at ${i})`);
          const value = readCounter(plan.counterFile) + 1;
          writeCounter(plan.counterFile, value);
          return { value };
        },
        compensate: async () => writeCounter(plan.counterFile, readCounter(plan.counterFile) - 1),
      });
    }
    steps.push(
      {
        kind: 'wait-for',
        id: 'counter-settled',
        title: 'Wait for the counter to read the expected value',
        what: `${plan.counterFile} = ${plan.start + plan.increments}`,
        intervalMs: 100,
        timeoutMs: p.settle,
        consecutive: 2,
        check: async () => {
          const value = readCounter(plan.counterFile);
          if (p.failWhile && existsSync(p.failWhile)) return { ok: false, detail: `counter is ${value}, but ${p.failWhile} exists (--fail-while)` };
          return { ok: value === plan.start + plan.increments, detail: `counter is ${value}` };
        },
      },
      { kind: 'notify', id: 'tell', title: 'Tell the channel', message: () => `demo-counter: counter now ${readCounter(plan.counterFile)}` },
    );
    return steps;
  },
  locks: (plan) => [`demo:${plan.dir}`],
  examplePlan: { dir: '/srv/demo', counterFile: '/srv/demo/counter', start: 0, increments: 3 },
};
