import { z } from 'zod';
import { sshPowerOptionsSchema } from '../../power/ssh.js';
import { isAddressOrNetwork } from '../sshScripts.js';

/** A systemd unit name; never read as an option. */
const unitName = z
  .string()
  .regex(/^[A-Za-z0-9_.@:\\-]+$/, 'must be a systemd unit name, e.g. "mariadb" or "redis-server@6379.service"')
  .refine((u) => !u.startsWith('-'), 'cannot start with "-"');

/** An absolute path that rm -rf may take: no "..", not "/" or a top-level folder. */
const dataPath = z
  .string()
  .regex(/^\/[^\0\n]*$/, 'must be an absolute path without NUL or newline')
  .refine((p) => !p.split('/').includes('..'), 'cannot contain ".."')
  .refine((p) => p.split('/').filter(Boolean).length >= 2, 'must be at least two levels deep (e.g. /var/lib/redis/dump.rdb)');

export const sshFaultOptionsSchema = z
  .object({
    /** How ssh connects: the ssh power driver's options (user, port, identityFile, hostKeyChecking, …). */
    ssh: sshPowerOptionsSchema.prefault({}),
    /** Prefix every privileged command with `sudo -n` (the ssh user is not root and may run nft, systemctl, mariadb and rm without a password). */
    sudo: z.boolean().default(false),
    /** Inventory service → systemd unit, over the defaults; "" says the service has no process of its own (power-off skips it). */
    units: z.record(z.string().min(1), z.union([unitName, z.literal('')])).default({}),
    /** The unit of the application behind `http` on hosts that are not load balancers. */
    appUnit: unitName.optional(),
    /** The unit of every service of a pool's proxy (a load balancer). */
    proxyUnit: unitName.default('haproxy'),
    /** What redis-data-loss deletes on each Redis host. */
    redisDataPaths: z.array(dataPath).min(1).default(['/var/lib/redis/dump.rdb', '/var/lib/redis/appendonlydir']),
    /** The MariaDB client as an argv (e.g. ["mysql", "--defaults-file=/root/.my.cnf"]). */
    mariadbCommand: z.array(z.string().min(1)).min(1).default(['mariadb']),
    /** The prefix of gameday's nft tables (one table per fault: <prefix>_<fault id>). */
    nftTablePrefix: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/, 'lower-case letters, digits and "_", starting with a letter').default('gameday_fault'),
    /** Addresses or networks that may still ssh in to a powered-off host, besides the controller itself. */
    allowSshFrom: z.array(z.string().refine(isAddressOrNetwork, 'must be an IP address or network, e.g. 10.0.0.5 or 10.0.0.0/24')).default([]),
    /** Hosts handled at the same time. */
    maxParallel: z.number().int().min(1).max(256).default(32),
    /** Seconds an undo that starts units may take (MariaDB's crash recovery after a power loss can be slow). */
    startTimeoutSeconds: z.number().int().min(1).max(3600).default(900),
  })
  .strict();

export type SshFaultOptionsInput = z.input<typeof sshFaultOptionsSchema>;
export type SshFaultOptions = z.output<typeof sshFaultOptionsSchema>;

/** The units gameday knows without being told. */
export const DEFAULT_UNITS: Readonly<Record<string, string>> = {
  mysql: 'mariadb',
  redis: 'redis-server',
  sentinel: 'redis-sentinel',
  'mysql-write': 'haproxy',
  'mysql-read': 'haproxy',
  'haproxy-admin': 'haproxy',
};
