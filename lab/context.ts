import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { type Host, type Inventory } from '../topology/index.js';
import { GamedayError } from '../core/errors.js';
import type { RedisEndpoint } from '../drivers/redis/readiness.js';
import { serviceAccountSchema } from './serviceAccounts.js';
import { labNetworkNames, type LabNetworkNames } from './network.js';
import { DISK_MODEL_NAMES, type DiskModel } from './diskModels.js';
import { DEFAULT_LAB_LAYOUT, DEFAULT_LAB_OCTET, LAB_LAYOUT_NAMES, labInventory, type LabLayout } from './layout.js';
import { labSshPowerOptions } from './sshFiles.js';

/** How much data the lab seeds: users x notifications per user, a share of them read. */
export const seedSchema = z.object({
  users: z.number().int().min(1).max(10_000_000),
  notificationsPerUser: z.number().int().min(1).max(10_000),
  readPercent: z.number().int().min(0).max(100),
});
export type SeedSize = z.infer<typeof seedSchema>;
export const DEFAULT_SEED: SeedSize = { users: 5000, notificationsPerUser: 40, readPercent: 70 };

const processRecordSchema = z.object({ host: z.string(), pid: z.number().int(), startedAt: z.string() });
export type ProcessRecord = z.infer<typeof processRecordSchema>;

/** What the lab remembers between commands, in <dir>/state.json. */
const stateSchema = z.object({
  octet: z.number().int().min(1).max(254),
  /** Where the hosts stand (lab/layout.ts); fixed for the lab's life. Labs made before layouts existed are spread. */
  layout: z.enum(LAB_LAYOUT_NAMES).default(DEFAULT_LAB_LAYOUT),
  createdAt: z.string(),
  seed: seedSchema,
  seeded: z.boolean(),
  secrets: z.object({
    appDbPassword: z.string(),
    replPassword: z.string(),
    l7checkToken: z.string(),
    /** MariaDB root on every db host (labs made before it existed have none). */
    dbRootPassword: z.string().optional(),
    /** requirepass of the Redis servers, and of the Sentinels (likewise optional). */
    redisPassword: z.string().optional(),
    sentinelPassword: z.string().optional(),
    /** The game days' read-marker probe's MariaDB login, through the proxies (labs made before it existed have none). */
    probePassword: z.string().optional(),
  }),
  processes: z.record(z.string(), processRecordSchema),
  /** The unprivileged account each service runs as (lab/serviceAccounts.ts), chosen when the lab is made; missing means root. */
  serviceAccounts: z.object({ mariadb: serviceAccountSchema.optional(), redis: serviceAccountSchema.optional(), haproxy: serviceAccountSchema.optional() }).default({}),
  /** Hosts whose power is off (processes killed, links down). */
  poweredOff: z.array(z.string()),
  /**
   * Whether the hosts boot with the guards gameday ships for a fleet (docs/boot-guards.md): every MariaDB
   * read-only by its config, every Redis through the boot guard. Off (lab up --no-guards), they boot as an
   * unguarded fleet does: the deployed primary's my.cnf writable, Redis from its own config.
   */
  guards: z.boolean().default(true),
  /** The db hosts' disks (lab/disk.ts), chosen when the lab is made; labs made before the model existed have none. */
  disk: z.enum(DISK_MODEL_NAMES as [DiskModel, ...DiskModel[]]).default('none'),
  /**
   * How gameday powers the hosts (lab up --power): `lab`, the lab's own driver; `ssh`, gameday's ssh power
   * driver against an sshd on every host (lab/sshd.ts), the inventory saying `power: ssh` as a fleet's does.
   */
  power: z.enum(['lab', 'ssh']).default('lab'),
});
export type LabState = z.infer<typeof stateSchema>;
export type LabPowerKind = LabState['power'];

/** Everything a lab command needs: where the lab lives, its inventory and its state. */
export class LabContext {
  readonly inventory: Inventory;

  constructor(
    readonly dir: string,
    readonly state: LabState,
  ) {
    this.inventory = labInventory(state.octet, state.layout, state.power === 'ssh' ? { power: 'ssh', drivers: { ssh: labSshPowerOptions(dir) } } : {});
  }

  /** The layout the lab was brought up with. */
  get layout(): LabLayout {
    return this.state.layout;
  }

  get stateFile(): string {
    return join(this.dir, 'state.json');
  }

  /** Folder of one host: its data, configs, sockets and logs. */
  hostDir(host: string): string {
    return join(this.dir, 'hosts', host);
  }

  host(name: string): Host {
    const h = this.inventory.hosts.find((x) => x.name === name);
    if (!h) throw new GamedayError('LAB_NO_HOST', `the lab has no host ${name}`, `host ${name}`, `one of: ${this.inventory.hosts.map((x) => x.name).join(', ')} (gameday lab status)`);
    return h;
  }

  /** The db host the layout makes primary at first start (switchovers may move the role later). */
  get initialDbPrimary(): Host {
    return this.hostsOf('db').find((h) => h.role === 'primary')!;
  }

  /** How to reach a lab Redis or Sentinel, with its password. */
  redisEndpoint(host: Host): RedisEndpoint {
    return host.tier === 'sentinel'
      ? { host: host.address, port: host.services.sentinel, password: this.state.secrets.sentinelPassword }
      : { host: host.address, port: host.services.redis, password: this.state.secrets.redisPassword };
  }

  hostsOf(tier: string): Host[] {
    return this.inventory.hosts.filter((h) => h.tier === tier);
  }

  /** The names of the lab's bridge, host namespaces and links (lab/network.ts). */
  get network(): LabNetworkNames {
    return labNetworkNames(this.state.octet, this.inventory);
  }

  /** The lab's nftables tables' name (one per lab, so labs never meet): in the bridge family a chain per network fault, in netdev the delay lines' guards. */
  get nftTable(): string {
    return `gameday_lab_${this.state.octet}`;
  }

  /**
   * Reads the state file again (another command may have changed it), in place. A lab taken down meanwhile
   * is an error: saving the old state would bring its folder back, and what runs next would start it again
   * (a reboot or a unit start that waited on the lab's lock while "lab down" held it).
   */
  reload(): void {
    const fresh = openLab(this.dir);
    if (!fresh) throw new GamedayError('LAB_NOT_UP', 'the lab was taken down meanwhile; nothing was done', this.dir, 'start one with "gameday lab up"');
    Object.assign(this.state, fresh.state);
  }

  save(): void {
    // The lab folder holds data, sockets and secrets: its owner's alone. Services that run as their own
    // accounts may pass through it (0711) to their host folders, which are theirs alone; nobody may list it.
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    chmodSync(this.dir, Object.keys(this.state.serviceAccounts).length > 0 ? 0o711 : 0o700);
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.state, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.stateFile);
  }
}

/** Default lab folder: .gameday/lab under the current directory (GAMEDAY_LAB_DIR overrides). */
export function defaultLabDir(): string {
  return resolve(process.env.GAMEDAY_LAB_DIR ?? join(process.cwd(), '.gameday', 'lab'));
}

/** Opens an existing lab, or undefined when there is none in `dir`. */
export function openLab(dir: string): LabContext | undefined {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    json = undefined;
  }
  const parsed = stateSchema.safeParse(json);
  if (!parsed.success) {
    throw new GamedayError(
      'LAB_STATE_INVALID',
      'the lab state file is not a lab state (damaged or written by something else), so the lab\'s processes are not known',
      file,
      `stop what still runs from ${dir} by hand (ps -eo pid,args | grep ${dir}), then remove ${dir} and run "gameday lab up"`,
    );
  }
  return new LabContext(dir, parsed.data);
}

/** Opens the lab in `dir`, failing with a clear error when it was never brought up. */
export function requireLab(dir: string): LabContext {
  const lab = openLab(dir);
  if (!lab) throw new GamedayError('LAB_NOT_UP', 'no lab here', dir, 'start one with "gameday lab up"');
  return lab;
}

/** A new lab's state, with fresh secrets. */
export function newLab(dir: string, octet: number = DEFAULT_LAB_OCTET, seed: SeedSize = DEFAULT_SEED, layout: LabLayout = DEFAULT_LAB_LAYOUT, options: { guards?: boolean; disk?: DiskModel; power?: LabPowerKind } = {}): LabContext {
  const secret = () => randomBytes(12).toString('hex');
  return new LabContext(dir, {
    octet,
    layout,
    createdAt: new Date().toISOString(),
    seed,
    seeded: false,
    secrets: { appDbPassword: secret(), replPassword: secret(), l7checkToken: secret(), dbRootPassword: secret(), redisPassword: secret(), sentinelPassword: secret(), probePassword: secret() },
    processes: {},
    serviceAccounts: {},
    poweredOff: [],
    guards: options.guards ?? true,
    disk: options.disk ?? 'none',
    power: options.power ?? 'lab',
  });
}
