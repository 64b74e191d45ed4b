import { isIP } from 'node:net';
import { z } from 'zod';

/** Names used as keys and references: lowercase, digits, dashes (DNS-label style). */
export const nameSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lowercase letters, digits and dashes, e.g. "db-1"');

const name = nameSchema;

const positiveInt = z.number().int().min(1);

/** A DNS name: labels of letters, digits and inner dashes, dot-separated (RFC 1123). */
const DNS_NAME = /^(?=.{1,253}\.?$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/** An Auto Scaling member, resolved to an instance at run time: asg/<group>/<slot> (what the Pulumi stack exports). */
const ASG_SLOT = /^asg\/[A-Za-z0-9][A-Za-z0-9._-]*\/[a-z0-9][a-z0-9-]*$/;

/**
 * Where gameday reaches a host: an IPv4 or IPv6 address, a DNS name, or an
 * Auto Scaling slot; nothing else. The address ends up in ssh and SQL
 * command lines, so a value such as "-oProxyCommand=…" or "1.1.1.1; touch x"
 * is refused here, not later.
 */
export function isHostAddress(text: string): boolean {
  return isIP(text) !== 0 || DNS_NAME.test(text) || ASG_SLOT.test(text);
}

/** A required string field whose "missing" message says what belongs there. */
function required(what: string) {
  return z.string({
    error: (issue) => (issue.input === undefined ? `missing: ${what}` : `must be a string: ${what}`),
  });
}

export const placementRulesSchema = z
  .object({
    /** How many hosts of one tier may share a rack. */
    maxPerRack: positiveInt.optional(),
    /** How many distinct zones a tier must span. */
    minZones: positiveInt.optional(),
  })
  .strict();

/** What runs on a tier's hosts: hand-off, readiness, warm-up and checks key on this, never on the tier's name. */
export const TIER_KINDS = ['mariadb', 'redis', 'sentinel', 'haproxy', 'http', 'generic'] as const;
export const tierKindSchema = z.enum(TIER_KINDS);

/**
 * A secret, referenced, never written inline (an inventory is committed,
 * printed and journaled): an environment variable of the process running
 * gameday, or a file only its user can read.
 */
export const secretRefSchema = z.union(
  [
    z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name, e.g. "PUB_DB_PASSWORD"') }).strict(),
    z.object({ file: z.string().min(1, 'must be a file path') }).strict(),
  ],
  { error: () => 'a secret is referenced, never inline: { env: VARIABLE } or { file: /path/to/file }' },
);

/** A login: a user name (not secret) and its password, referenced. */
export const credentialsSchema = z
  .object({
    user: z.string().min(1).optional(),
    password: secretRefSchema.optional(),
  })
  .strict();

/** At most this many members of a tier down at once: a count, or a percentage of the tier ("10%"). */
export const maxUnavailableSchema = z.union([
  positiveInt,
  z.string().regex(/^(100|[1-9][0-9]?)%$/, 'must be a count (e.g. 2) or a percentage from 1% to 100% (e.g. "10%")'),
]);

export const tierSchema = z
  .object({
    /** What runs on it (see TIER_KINDS); inventories without it are read by the conventional tier names (topology/kinds.ts). */
    kind: tierKindSchema.optional(),
    /**
     * For mariadb and redis tiers: the replication cluster the tier's hosts
     * form (default: the tier's name). Switchovers, peers and readiness stay
     * inside one cluster.
     */
    cluster: name.optional(),
    /** For redis tiers: the name the Sentinels monitor this cluster's primary by (default $GAMEDAY_SENTINEL_MASTER, else "mymaster"). */
    sentinelMaster: z.string().regex(/^[A-Za-z0-9._-]+$/, 'must be a Sentinel master name: letters, digits, dots, dashes, underscores').optional(),
    /** For redis tiers: the tier of the Sentinels that watch it (default: every sentinel-kind host). */
    sentinels: name.optional(),
    /** For mariadb tiers: the admin login gameday uses (default $GAMEDAY_MYSQL_USER / $GAMEDAY_MYSQL_PASSWORD). */
    admin: credentialsSchema.optional(),
    /** For mariadb tiers: the login replicas replicate with (default $GAMEDAY_REPL_USER / $GAMEDAY_REPL_PASSWORD). */
    replication: credentialsSchema.optional(),
    /** For redis and sentinel tiers: their requirepass (default $GAMEDAY_REDIS_PASSWORD, $GAMEDAY_SENTINEL_PASSWORD). */
    password: secretRefSchema.optional(),
    /** How many members may be down at once in a reboot wave (default: 1 for stateful kinds, else what the blast radius allows). */
    maxUnavailable: maxUnavailableSchema.optional(),
    /** Members that must stay healthy for the tier to hold. */
    minHealthy: positiveInt.optional(),
    /** For consensus tiers (Sentinel): members that must agree; a majority must also survive. */
    quorum: positiveInt.optional(),
    /** Overrides of the inventory's placement defaults for this tier. */
    placement: placementRulesSchema.optional(),
  })
  .strict();

export const roleSchema = z.enum(['primary', 'replica']);

export const hostSchema = z
  .object({
    name: required('the host name, e.g. "db-1"').pipe(name),
    tier: required('the tier this host belongs to, one of the keys under tiers').pipe(name),
    /** For replicated tiers (MariaDB, Redis): who takes writes. */
    role: roleSchema.optional(),
    zone: required('the availability zone or data center, e.g. "az-a"').pipe(name),
    rack: required('the rack (or placement group), e.g. "a1"').pipe(name),
    address: required('the IP address or DNS name gameday reaches the host at')
      .min(1, 'must not be empty: the IP address or DNS name gameday reaches the host at')
      .refine(isHostAddress, { error: (issue) => `${JSON.stringify(issue.input)} is not an IP address, a DNS name (letters, digits, dots and dashes; no spaces, no leading dash) or an Auto Scaling slot (asg/<group>/<name>)` }),
    /** Service name → TCP port, e.g. { mysql: 3306 }. */
    services: z.record(z.string(), z.number().int().min(1).max(65535)).default({}),
    /**
     * How gameday reaches this host's power: lab (the embedded lab), ssh, aws
     * (an EC2 instance, id i-…), aws-asg (an Auto Scaling member: id is the
     * group's name, the instance is found at run time), elasticache (a node:
     * id is its cache cluster id). Default: ssh.
     */
    power: z.enum(['lab', 'ssh', 'aws', 'aws-asg', 'elasticache']).optional(),
    /** Cloud or data-center identity (instance id, asset tag), kept as given. */
    id: z.string().optional(),
  })
  .strict();

export const poolSchema = z
  .object({
    name,
    /** The load balancers that serve this pool (hosts). */
    proxies: z.array(name).min(1, 'a pool needs at least one proxy host'),
    /** The backend servers of the pool (hosts). */
    servers: z.array(name).min(1, 'a pool needs at least one server host'),
    /** The backend's name in the load balancer, when it differs from the pool's. */
    backend: z.string().optional(),
  })
  .strict();

export const inventorySchema = z
  .object({
    name,
    tiers: z.record(name, tierSchema),
    placement: placementRulesSchema.default({}),
    hosts: z.array(hostSchema).min(1, 'an inventory needs at least one host'),
    pools: z.array(poolSchema).default([]),
    /**
     * Options of the power drivers for this fleet (checked by the drivers:
     * ssh user, port, identityFile, jumpHost, …; aws region, uptimeSource);
     * environment variables and flags override them.
     */
    drivers: z
      .object({ ssh: z.record(z.string(), z.unknown()).optional(), aws: z.record(z.string(), z.unknown()).optional() })
      .strict()
      .optional(),
    /** Live state added by `gameday lab status --json`; ignored, so that output is itself an inventory. */
    live: z.unknown().optional(),
  })
  .strict();

export type PlacementRules = z.infer<typeof placementRulesSchema>;
export type Tier = z.infer<typeof tierSchema>;
export type SecretRef = z.infer<typeof secretRefSchema>;
export type Credentials = z.infer<typeof credentialsSchema>;
export type TierKind = z.infer<typeof tierKindSchema>;
export type Host = z.infer<typeof hostSchema>;
export type Pool = z.infer<typeof poolSchema>;
export type Inventory = z.infer<typeof inventorySchema>;
/** What the inventory file may contain before defaults are applied. */
export type InventoryInput = z.input<typeof inventorySchema>;

export const DEFAULT_PLACEMENT = { maxPerRack: 1, minZones: 2 } as const;
