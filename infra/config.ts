import { z } from 'zod';
import { GamedayError } from '../core/errors.js';

/**
 * The stack configuration (`pulumi config set gameday:<key> <value>`), validated in one place.
 * Pure: it gets the raw strings Pulumi holds and returns typed values with defaults, or throws
 * one GamedayError that names every bad key, the value given and what would be valid.
 */

/** The Pulumi config namespace: the project name in Pulumi.yaml. */
export const CONFIG_NAMESPACE = 'gameday';

const REGION_RE = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const CIDR_RE = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** An IPv4 CIDR as [first address, prefix length], or undefined when malformed. */
export function parseCidr(cidr: string): { base: number; prefix: number } | undefined {
  const m = CIDR_RE.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  if ((base & mask) >>> 0 !== base) return undefined; // host bits set: 10.0.0.1/16
  return { base, prefix };
}

function cidrContains(outer: string, inner: string): boolean {
  const o = parseCidr(outer);
  const i = parseCidr(inner);
  if (!o || !i || i.prefix < o.prefix) return false;
  const mask = o.prefix === 0 ? 0 : (0xffffffff << (32 - o.prefix)) >>> 0;
  return ((i.base & mask) >>> 0) === o.base;
}

function cidrsOverlap(a: string, b: string): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

function formatIp(n: number): string {
  return [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');
}

/** The i-th /24 (or smaller, to fit) subnet of the VPC, used for default subnet CIDRs. */
export function nthSubnet(vpcCidr: string, i: number): string {
  const vpc = parseCidr(vpcCidr)!;
  const prefix = Math.max(vpc.prefix + 4, 24) > 28 ? 28 : Math.max(vpc.prefix + 4, 24);
  const size = 2 ** (32 - prefix);
  return `${formatIp((vpc.base + i * size) >>> 0)}/${prefix}`;
}

// --- value parsers: Pulumi config values are strings; accept numbers, JSON arrays and comma lists ---

function wholeNumber(min: number, max: number) {
  const valid = `a whole number from ${min} to ${max}`;
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: () => `must be ${valid}` })
      .int({ error: `must be ${valid}` })
      .min(min, { error: `must be ${valid}` })
      .max(max, { error: `must be ${valid}` }),
  );
}

function stringList(item: z.ZodType<string>, what: string) {
  return z.preprocess((v) => {
    if (typeof v !== 'string') return v;
    const t = v.trim();
    if (t.startsWith('[')) {
      try {
        return JSON.parse(t);
      } catch {
        return v;
      }
    }
    return t === '' ? [] : t.split(',').map((s) => s.trim());
  }, z.array(item, { error: () => `must be a list of ${what} (JSON array or comma-separated)` }));
}

const instanceType = z
  .string()
  .regex(/^[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an EC2 instance type such as "t3.small" or "m6i.large"');
const cacheNodeType = z
  .string()
  .regex(/^cache\.[a-z][a-z0-9-]*\.[a-z0-9]+$/, 'must be an ElastiCache node type such as "cache.t3.small"');
const cidr = z.string().refine((v) => parseCidr(v) !== undefined, 'must be an IPv4 CIDR block such as "10.40.0.0/16"');
const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be a time of day "HH:MM" (24-hour), e.g. "03:00"');
const duration = z.string().regex(/^\d+[dh]$/, 'must be a duration in days or hours, e.g. "180d"');

/** Every key the stack reads, with its default; `undefined` means required. */
/** The variables the daily task may take from Secrets Manager: its notifier and the fleet's logins (cli/wiring/fleetFromEnv.ts). */
export const REBOOT_SECRET_VARIABLES = ['GAMEDAY_SLACK_WEBHOOK', 'GAMEDAY_MYSQL_PASSWORD', 'GAMEDAY_REPL_PASSWORD', 'GAMEDAY_REDIS_PASSWORD', 'GAMEDAY_SENTINEL_PASSWORD', 'GAMEDAY_L7CHECK_TOKEN', 'GAMEDAY_PROBE_PASSWORD'] as const;

const rawSchema = z
  .object({
    region: z.string().regex(REGION_RE, 'must be an AWS region such as "us-east-1"').default('us-east-1'),
    zones: stringList(z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d[a-z]$/, 'must be availability zone names such as "us-east-1a"'), 'availability zones')
      .optional(),
    minZones: wholeNumber(2, 6).default(2),
    vpcCidr: cidr.default('10.40.0.0/16'),
    publicSubnetCidrs: stringList(cidr, 'CIDR blocks').optional(),
    privateSubnetCidrs: stringList(cidr, 'CIDR blocks').optional(),
    allowedHttpCidrs: stringList(cidr, 'CIDR blocks').default(['0.0.0.0/0']),
    ami: z.string().regex(/^ami-[0-9a-f]{8,17}$/, 'must be an AMI id such as "ami-0123456789abcdef0"').optional(),
    webCount: wholeNumber(1, 140).default(6),
    webInstanceType: instanceType.default('t3.small'),
    webMinHealthy: wholeNumber(1, 140).optional(),
    dbReplicas: wholeNumber(0, 20).default(2),
    dbInstanceType: instanceType.default('m6i.large'),
    dbMinHealthy: wholeNumber(1, 21).optional(),
    dbProxyCount: wholeNumber(2, 20).default(2),
    dbProxyInstanceType: instanceType.default('t3.small'),
    dbProxyMinHealthy: wholeNumber(1, 20).optional(),
    redisNodes: wholeNumber(2, 6).optional(),
    redisNodeType: cacheNodeType.default('cache.t3.small'),
    redisMinHealthy: wholeNumber(1, 6).optional(),
    webSlowStartSeconds: wholeNumber(30, 900).default(120),
    stop5xxPercent: wholeNumber(1, 100).default(5),
    stopLatencyMs: wholeNumber(10, 60_000).default(1500),
    rebootImage: z.string({ error: (i) => (i.input === undefined ? 'missing: the container image that runs gameday' : 'must be a string') }).min(1),
    rebootWindowStart: hhmm.default('03:00'),
    rebootWindowMinutes: wholeNumber(1, 1440).default(120),
    rebootTimezone: z.string().regex(/^[A-Za-z_]+(\/[A-Za-z0-9_+-]+)*$/, 'must be an IANA time zone such as "UTC" or "Europe/Paris"').default('UTC'),
    rebootMaxUptime: duration.default('180d'),
    // What the task reads from Secrets Manager at start (ECS `secrets`): a variable name per secret ARN, never a value.
    rebootSecrets: z
      // Pulumi config gives a string: `pulumi config set rebootSecrets '{"GAMEDAY_SLACK_WEBHOOK": "arn:…"}'`.
      .preprocess((v) => {
        if (typeof v !== 'string') return v;
        try {
          return JSON.parse(v);
        } catch {
          return v;
        }
      }, z.partialRecord(
        z.enum(REBOOT_SECRET_VARIABLES),
        z.string().regex(/^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$/, 'must be a Secrets Manager secret ARN, e.g. arn:aws:secretsmanager:us-east-1:123456789012:secret:gameday/slack-AbCdEf'),
      ))
      .default({}),
  })
  .strict();

export const CONFIG_KEYS = Object.keys(rawSchema.shape) as (keyof typeof rawSchema.shape)[];

/** How to fix each key, shown with its error. */
const VALID: Record<string, string> = {
  region: 'an AWS region, e.g. us-east-1',
  zones: 'availability zones of the region, e.g. ["us-east-1a","us-east-1b","us-east-1c"]',
  minZones: 'a whole number from 2 to 6',
  vpcCidr: 'an IPv4 CIDR, e.g. 10.40.0.0/16',
  publicSubnetCidrs: 'one CIDR per zone, inside vpcCidr, not overlapping',
  privateSubnetCidrs: 'one CIDR per zone, inside vpcCidr, not overlapping',
  allowedHttpCidrs: 'CIDRs allowed to reach the load balancer, e.g. ["0.0.0.0/0"]',
  ami: 'an AMI id (default: the latest Debian 12 image of the region)',
  rebootImage: 'a container image with gameday, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/gameday:1.0',
  rebootSecrets: `an object of variable name to Secrets Manager ARN, e.g. {"GAMEDAY_SLACK_WEBHOOK": "arn:aws:secretsmanager:…"}; names: ${REBOOT_SECRET_VARIABLES.join(', ')}`,
};

export interface TierSize {
  count: number;
  minHealthy: number;
}

export interface StackConfig {
  region: string;
  zones: string[];
  minZones: number;
  vpcCidr: string;
  publicSubnetCidrs: string[];
  privateSubnetCidrs: string[];
  allowedHttpCidrs: string[];
  /** Undefined: look up the latest Debian 12 AMI of the region. */
  ami?: string;
  web: TierSize & { instanceType: string; slowStartSeconds: number };
  db: TierSize & { instanceType: string; replicas: number };
  dbProxy: TierSize & { instanceType: string };
  redis: TierSize & { nodeType: string };
  stopConditions: { http5xxPercent: number; latencyMs: number };
  reboot: { image: string; windowStart: string; windowMinutes: number; timezone: string; maxUptime: string; secrets: Partial<Record<(typeof REBOOT_SECRET_VARIABLES)[number], string>> };
}

/** The minHealthy used when a tier's is not configured: what the tier needs to keep serving. */
const DEFAULT_MIN_HEALTHY = { web: 2, db: 2, dbProxy: 1, redis: 1 } as const;

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
}

function fail(problems: string[], source: string): never {
  throw new GamedayError(
    'CONFIG_INVALID',
    `invalid stack configuration:\n  - ${problems.join('\n  - ')}`,
    source,
    `fix with \`pulumi config set ${CONFIG_NAMESPACE}:<key> <value>\` (structured values: --path or a JSON string); see infra/README.md`,
  );
}

/**
 * Validates the raw configuration (keys without the `gameday:` namespace, values as Pulumi holds them).
 * `source` names where it came from (e.g. "Pulumi.dev.yaml").
 */
export function parseStackConfig(raw: Record<string, unknown>, source = 'stack configuration'): StackConfig {
  const problems: string[] = [];
  const unknown = Object.keys(raw).filter((k) => !(CONFIG_KEYS as string[]).includes(k));
  for (const k of unknown) problems.push(`${CONFIG_NAMESPACE}:${k}: unknown key; valid keys: ${CONFIG_KEYS.join(', ')}`);
  const known = Object.fromEntries(Object.entries(raw).filter(([k]) => !unknown.includes(k)));

  const parsed = rawSchema.safeParse(known);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const key = String(issue.path[0] ?? '');
      const given = key in known ? ` (given ${describe(known[key])})` : '';
      const valid = VALID[key] && !issue.message.startsWith('must be') ? `; valid: ${VALID[key]}` : '';
      const at = issue.path.length > 1 ? `[${issue.path.slice(1).join('][')}]` : '';
      problems.push(`${CONFIG_NAMESPACE}:${key}${at}: ${issue.message}${given}${valid}`);
    }
    fail(problems, source);
  }
  if (problems.length > 0) fail(problems, source);
  const c = parsed.data;

  // Cross-field rules.
  const zones = c.zones ?? ['a', 'b', 'c'].map((s) => `${c.region}${s}`);
  if (zones.length === 0) problems.push(`${CONFIG_NAMESPACE}:zones: empty; valid: ${VALID.zones}`);
  if (zones.length > 6) problems.push(`${CONFIG_NAMESPACE}:zones: ${zones.length} zones given; at most 6 are supported`);
  for (const z of zones) {
    if (!z.startsWith(c.region)) problems.push(`${CONFIG_NAMESPACE}:zones: "${z}" is not a zone of region ${c.region}; valid: ${VALID.zones}`);
  }
  const dupZones = zones.filter((z, i) => zones.indexOf(z) !== i);
  if (dupZones.length > 0) problems.push(`${CONFIG_NAMESPACE}:zones: "${dupZones[0]}" is listed twice; each zone once`);

  const publicCidrs = c.publicSubnetCidrs ?? zones.map((_, i) => nthSubnet(c.vpcCidr, i));
  const privateCidrs = c.privateSubnetCidrs ?? zones.map((_, i) => nthSubnet(c.vpcCidr, 8 + i));
  for (const [key, list] of [['publicSubnetCidrs', publicCidrs], ['privateSubnetCidrs', privateCidrs]] as const) {
    if (list.length !== zones.length) {
      problems.push(`${CONFIG_NAMESPACE}:${key}: ${list.length} CIDRs for ${zones.length} zones; valid: ${VALID[key]}`);
    }
    for (const block of list) {
      if (!cidrContains(c.vpcCidr, block)) problems.push(`${CONFIG_NAMESPACE}:${key}: ${block} is not inside vpcCidr ${c.vpcCidr}`);
    }
  }
  const all = [...publicCidrs, ...privateCidrs];
  for (let i = 0; i < all.length; i++) {
    for (let j = i + 1; j < all.length; j++) {
      if (cidrsOverlap(all[i]!, all[j]!)) problems.push(`subnet CIDRs ${all[i]} and ${all[j]} overlap; each subnet needs its own block`);
    }
  }

  const dbCount = 1 + c.dbReplicas;
  const tier = (key: string, count: number, given: number | undefined, fallback: number): TierSize => {
    const minHealthy = given ?? Math.min(fallback, count);
    if (minHealthy > count) {
      problems.push(`${CONFIG_NAMESPACE}:${key}: ${minHealthy} is more than the tier's ${count} members; valid: 1 to ${count}`);
    }
    return { count, minHealthy };
  };
  const web = tier('webMinHealthy', c.webCount, c.webMinHealthy, DEFAULT_MIN_HEALTHY.web);
  const db = tier('dbMinHealthy', dbCount, c.dbMinHealthy, DEFAULT_MIN_HEALTHY.db);
  const dbProxy = tier('dbProxyMinHealthy', c.dbProxyCount, c.dbProxyMinHealthy, DEFAULT_MIN_HEALTHY.dbProxy);
  // One ElastiCache node per zone by default (2 or 3); never more nodes than zones, so no two share one.
  const redisNodes = c.redisNodes ?? Math.min(3, Math.max(2, zones.length));
  if (redisNodes > Math.max(2, zones.length)) {
    problems.push(`${CONFIG_NAMESPACE}:redisNodes: ${redisNodes} nodes for ${zones.length} zones; ElastiCache nodes must be in distinct zones, so valid: 2 to ${Math.max(2, zones.length)}`);
  }
  const redis = tier('redisMinHealthy', redisNodes, c.redisMinHealthy, DEFAULT_MIN_HEALTHY.redis);
  if (problems.length > 0) fail(problems, source);

  return {
    region: c.region,
    zones,
    minZones: c.minZones,
    vpcCidr: c.vpcCidr,
    publicSubnetCidrs: publicCidrs,
    privateSubnetCidrs: privateCidrs,
    allowedHttpCidrs: c.allowedHttpCidrs,
    ami: c.ami,
    web: { ...web, instanceType: c.webInstanceType, slowStartSeconds: c.webSlowStartSeconds },
    db: { ...db, instanceType: c.dbInstanceType, replicas: c.dbReplicas },
    dbProxy: { ...dbProxy, instanceType: c.dbProxyInstanceType },
    redis: { ...redis, nodeType: c.redisNodeType },
    stopConditions: { http5xxPercent: c.stop5xxPercent, latencyMs: c.stopLatencyMs },
    reboot: {
      image: c.rebootImage,
      windowStart: c.rebootWindowStart,
      windowMinutes: c.rebootWindowMinutes,
      timezone: c.rebootTimezone,
      maxUptime: c.rebootMaxUptime,
      secrets: c.rebootSecrets,
    },
  };
}
