import { Listr } from 'listr2';
import Table from 'cli-table3';
import { GamedayError } from '../core/errors.js';
import { defaultLabDir, seedSchema, DEFAULT_SEED, type LabPowerKind, type SeedSize } from '../lab/context.js';
import { labUpPhases, type LabUpOptions } from '../lab/up.js';
import { withLabLock } from '../lab/labLock.js';
import type { LabStatus } from '../lab/status.js';
import { DEFAULT_DISK_MODEL, DISK_MODEL_NAMES, DISK_MODELS, type DiskModel } from '../lab/diskModels.js';
import { DEFAULT_LAB_LAYOUT, isLabLayout, LAB_LAYOUT_NAMES, LAB_LAYOUTS, type LabLayout } from '../lab/layout.js';

/* Bringing the lab up and showing its state: shared by "lab up", "lab status" and "lab demo". */

export function intFlag(flag: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new GamedayError('BAD_FLAG', `must be a whole number from ${min} to ${max}, got "${value}"`, flag, `e.g. ${flag} ${min}`);
  }
  return n;
}

export interface LabUpFlags {
  dir?: string;
  octet?: string;
  users?: string;
  perUser?: string;
  readPercent?: string;
  layout?: string;
  /** false with --no-guards (commander's default is true). */
  guards?: boolean;
  disk?: string;
  power?: string;
}

/** The --power flag's value, checked. */
export function powerFlag(value: string | undefined): LabPowerKind | undefined {
  if (value === undefined) return undefined;
  if (value !== 'lab' && value !== 'ssh') {
    throw new GamedayError('BAD_FLAG', `unknown power "${value}"; valid: lab (the lab's own driver), ssh (gameday's ssh driver against an sshd on every host)`, '--power', 'e.g. --power ssh');
  }
  return value;
}

/** The --disk flag's value, checked: one clear error naming the flag and the models. */
export function diskFlag(value: string | undefined): DiskModel | undefined {
  if (value === undefined) return undefined;
  if (!(DISK_MODEL_NAMES as string[]).includes(value)) {
    throw new GamedayError('BAD_FLAG', `unknown disk model "${value}"; valid models: ${DISK_MODEL_NAMES.join(', ')}`, '--disk', 'see "gameday lab up --help" for what each model is');
  }
  return value as DiskModel;
}

export function diskHelp(): string {
  return `\nDisk models (--disk), for each db host's datadir:\n${DISK_MODEL_NAMES.map((d) => `  ${d.padEnd(12)} ${DISK_MODELS[d].about}${d === DEFAULT_DISK_MODEL ? ' (default)' : ''}`).join('\n')}\n`;
}

/** The --layout flag's value, checked: one clear error naming the flag and the valid layouts. */
export function layoutFlag(value: string | undefined): LabLayout | undefined {
  if (value === undefined) return undefined;
  if (!isLabLayout(value)) {
    throw new GamedayError('BAD_FLAG', `unknown layout "${value}"; valid layouts: ${LAB_LAYOUT_NAMES.join(', ')}`, '--layout', 'see "gameday lab up --help" for what each layout is');
  }
  return value;
}

export function layoutHelp(): string {
  return `\nLayouts (--layout):\n${LAB_LAYOUTS.map((l) => `  ${l.name.padEnd(12)} ${l.description}${l.name === DEFAULT_LAB_LAYOUT ? ' (default)' : ''}`).join('\n')}\n`;
}

export function labUpOptions(flags: LabUpFlags): LabUpOptions {
  const users = intFlag('--users', flags.users, 1, 10_000_000);
  const perUser = intFlag('--per-user', flags.perUser, 1, 10_000);
  const readPercent = intFlag('--read-percent', flags.readPercent, 0, 100);
  const seed: SeedSize | undefined =
    users ?? perUser ?? readPercent
      ? seedSchema.parse({
          users: users ?? DEFAULT_SEED.users,
          notificationsPerUser: perUser ?? DEFAULT_SEED.notificationsPerUser,
          readPercent: readPercent ?? DEFAULT_SEED.readPercent,
        })
      : undefined;
  const layout = layoutFlag(flags.layout);
  const disk = diskFlag(flags.disk);
  const power = powerFlag(flags.power);
  return { dir: flags.dir ?? defaultLabDir(), octet: intFlag('--octet', flags.octet, 1, 254), seed, ...(layout ? { layout } : {}), ...(flags.guards === false ? { guards: false } : {}), ...(disk ? { disk } : {}), ...(power ? { power } : {}) };
}

/** Brings the lab up with a step list on the terminal; returns the wall time in ms. */
export async function runLabUp(opts: LabUpOptions): Promise<number> {
  const started = Date.now();
  const { phases } = labUpPhases(opts);
  const tasks = new Listr(
    phases.map((p) => ({
      title: p.title,
      task: async (_: unknown, task: { output: string; title: string }) => {
        const t0 = Date.now();
        const detail = await p.run();
        task.title = `${p.title}${detail ? `: ${detail}` : ''} (${((Date.now() - t0) / 1000).toFixed(1)} s)`;
      },
    })),
    { exitOnError: true, renderer: process.stderr.isTTY ? 'default' : 'simple', rendererOptions: {} },
  );
  try {
    await withLabLock(opts.dir, 'lab up', () => tasks.run());
  } catch (err) {
    throw err instanceof GamedayError ? err : new GamedayError('LAB_UP_FAILED', (err as Error).message, opts.dir, 'see the logs under the lab folder; "gameday lab down" cleans up');
  }
  return Date.now() - started;
}

export function renderStatus(s: LabStatus): string {
  const table = new Table({ head: ['host', 'tier', 'zone/rack', 'address', 'state', 'role now'], style: { head: [], border: [] } });
  for (const h of s.hosts) {
    const live = s.live.hosts[h.name];
    table.push([h.name, h.tier, `${h.zone}/${h.rack}`, h.address, live.state, live.role ?? '']);
  }
  const description = LAB_LAYOUTS.find((l) => l.name === s.live.layout)?.description;
  const lines = [`Layout: ${s.live.layout}${description ? ` (${description})` : ''}`, `Disks of the db hosts: ${s.live.disk} (${DISK_MODELS[s.live.disk].about})`, table.toString()];
  const views = Object.entries(s.live.sentinel).map(([k, v]) => `${k}: ${v ?? 'unknown'}`);
  lines.push(`Sentinel's Redis primary: ${views.join(', ') || 'no Sentinel answers'}`);
  for (const [proxy, servers] of Object.entries(s.live.haproxy)) {
    const byBackend = new Map<string, string[]>();
    for (const sv of servers) byBackend.set(sv.backend, [...(byBackend.get(sv.backend) ?? []), `${sv.server} ${sv.status} w${sv.weight}`]);
    lines.push(`${proxy}: ${[...byBackend].map(([b, list]) => `${b} [${list.join(', ')}]`).join('  ')}`);
  }
  const apps = Object.entries(s.live.hosts).filter(([, h]) => h.redisWrites).map(([name, h]) => {
    const w = h.redisWrites!;
    return `${name} ${w.applied + w.retried} applied (${w.retried} after a retry), ${w.repaired} repaired later, ${w.pending} pending`;
  });
  if (apps.length) lines.push(`App writes to Redis: ${apps.join('; ')}`);
  return lines.join('\n');
}
