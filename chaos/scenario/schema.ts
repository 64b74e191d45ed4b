import { z } from 'zod';
import { parseDuration } from '../../core/duration.js';
import { FAULT_TYPES } from '../../drivers/faults/types.js';

/** "30s", "500ms", "2m" to milliseconds; the message names the bad text. */
const duration = z.union([z.string(), z.number()]).transform((value, ctx) => {
  const ms = typeof value === 'number' ? value * 1000 : parseDuration(value);
  if (ms === undefined || !Number.isFinite(ms) || ms < 0) {
    ctx.addIssue({ code: 'custom', message: `not a duration: "${value}" (use e.g. 500ms, 30s, 2m)` });
    return z.NEVER;
  }
  return ms;
});

/**
 * What a fault hits: a host, a rack, a zone (names as in the inventory), or
 * one member of a tier picked at random when the run starts, or a tier's live
 * primary (both recorded in the run, so a resume or abort undoes the same host).
 */
export const targetSchema = z.union([
  z.object({ host: z.string().min(1) }).strict(),
  z.object({ rack: z.string().min(1) }).strict(),
  z.object({ zone: z.string().min(1) }).strict(),
  z.object({ random: z.object({ tier: z.string().min(1), role: z.enum(['primary', 'replica']).optional() }).strict() }).strict(),
  /** The tier's primary as the fleet names it when the run starts (MariaDB: the one writable server; Redis: its Sentinels' majority), not the inventory's role. */
  z.object({ primary: z.string().min(1) }).strict(),
  /** Every host of a tier (the far end of a network fault, say: "the replicas do not hear the primary"). */
  z.object({ tier: z.string().min(1) }).strict(),
], { error: 'a target is one of { host: <name> }, { rack: <name> }, { zone: <name> }, { tier: <tier> }, { primary: <tier> } or { random: { tier: <tier>, role?: primary|replica } }' });
export type ScenarioTarget = z.infer<typeof targetSchema>;

const faultId = z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes, e.g. "rack-loss"');
const when = {
  id: faultId.optional(),
  /** After the warm-up. */
  at: duration.prefault('0s'),
  /** How long the fault lasts before its undo; every fault is undone at the end of the run anyway. */
  for: duration.optional(),
};

export const faultSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('power-off'), target: targetSchema, ...when }).strict(),
  z.object({
    type: z.literal('kill-process'),
    target: targetSchema,
    /** A service of the host's inventory entry (mysql, redis, sentinel, http, ...): a crash, not a power loss. */
    service: z.string().min(1),
    ...when,
  }).strict(),
  z.object({
    type: z.literal('stop-replication'),
    target: targetSchema,
    /** sql: the replica keeps receiving but stops applying (the 2017 lag); io: it stops receiving. */
    thread: z.enum(['sql', 'io']).default('sql'),
    ...when,
  }).strict(),
  z.object({ type: z.literal('partition'), between: z.tuple([z.string().min(1), z.string().min(1)]), ...when }).strict(),
  z.object({ type: z.literal('redis-data-loss'), ...when }).strict(),
  /** A partition in one direction: nothing `from` sends reaches `to` (default: every other host); what `to` sends still arrives. */
  z.object({ type: z.literal('one-way'), from: targetSchema, to: targetSchema.optional(), ...when }).strict(),
  /** Each packet between the target and its peers (default: every other host) lost with this probability, both ways. */
  z.object({ type: z.literal('loss'), target: targetSchema, percent: z.number().gt(0).max(100), peers: targetSchema.optional(), ...when }).strict(),
  /**
   * The round trip between the target and each of its peers (default: every other host) grows by `ms`, half
   * each way, varying by up to `jitter` either way; frames keep their order. As netem on the target's link.
   */
  z.object({
    type: z.literal('latency'),
    target: targetSchema,
    ms: z.number().int().min(1).max(10_000),
    jitter: z.number().int().min(0).default(0),
    peers: targetSchema.optional(),
    ...when,
  }).strict().refine((f) => f.jitter <= f.ms, { message: 'jitter cannot be more than ms (a round trip never gets shorter)', path: ['jitter'] }),
  /** The target's link limited to this rate, both ways (e.g. 1mbit, 500kbit). */
  z.object({ type: z.literal('bandwidth'), target: targetSchema, rate: z.string().regex(/^\d+(\.\d+)?(kbit|mbit|gbit)$/, 'a rate such as 500kbit, 1mbit or 1gbit'), ...when }).strict(),
], { error: (issue) => (issue.code === 'invalid_union' ? `type must be one of ${FAULT_TYPES.join(', ')}` : undefined) });
export type FaultSpec = z.infer<typeof faultSchema>;

/** A runbook that stands in for the on-call engineer once a fault is seen (or once it is undone). */
/** A response parameter that names the MariaDB primary its fault took down. */
export const LOST_PRIMARY = '$lost-primary';

export const responseSchema = z.object({
  /** The fault's id; with `on: undo`, runs after that fault's undo. */
  after: faultId,
  on: z.enum(['detected', 'undo']).default('detected'),
  /** Wait this long after detection (an engineer being paged). */
  delay: duration.prefault('0s'),
  runbook: z.string().min(1),
  /**
   * The runbook's parameters. `$lost-primary` stands for the MariaDB primary the fault took down
   * (the writable db host among its hosts when it was injected); when it took none, the response is skipped.
   */
  params: z.record(z.string(), z.union([
    z.string().refine((v) => !v.startsWith('$') || v === LOST_PRIMARY, `the only placeholder is ${'$'}lost-primary`),
    z.number(),
    z.boolean(),
  ])).default({}),
}).strict();
export type ResponseSpec = z.infer<typeof responseSchema>;

const optional = <T extends z.ZodType>(schema: T) => z.union([z.literal(false), schema]).optional();

/** `optional: true`: the check may be inconclusive (too little observed) without failing the game day; a failed check still fails it. */
const optionalFlag = z.boolean().optional();

/** The checks a game day asserts; each has defaults, `false` turns one off. */
export const checksSchema = z.object({
  leavePools: optional(z.object({ within: duration.prefault('5s'), optional: optionalFlag }).strict()),
  redisFailover: optional(z.object({ within: duration.prefault('15s'), optional: optionalFlag }).strict()),
  writesResume: optional(z.object({ within: duration.prefault('5s'), optional: optionalFlag }).strict()),
  readsResume: optional(z.object({ within: duration.prefault('5s'), optional: optionalFlag }).strict()),
  oneWritablePrimary: optional(z.object({ optional: optionalFlag }).strict()),
  /** detection: how long the read pool may take to drop a replica past maxLagMs (the lab's: two 250 ms checks, each answered within 300 ms). */
  noStaleReads: optional(z.object({ maxLagMs: z.number().int().min(0).default(3000), detection: duration.prefault('1s'), optional: optionalFlag }).strict()),
  noLostWrites: optional(z.object({ optional: optionalFlag }).strict()),
  errorBudget: optional(z.object({
    maxFailedPercent: z.number().min(0).max(100).default(0.1),
    maxP99Ms: z.number().int().min(1).default(2000),
    maxErrorWindow: duration.optional(),
    optional: optionalFlag,
  }).strict()),
}).strict().default({});
export type ChecksSpec = z.infer<typeof checksSchema>;

export const loadSchema = z.object({
  /** Requests per second, spread evenly. */
  rate: z.number().min(1).max(2000).default(40),
  /** Percent of each kind; reads take what creates and mark-reads leave. */
  createPercent: z.number().min(0).max(100).default(20),
  markReadPercent: z.number().min(0).max(100).default(10),
  /** The load before the first fault: the steady state must hold over it. */
  warmup: duration.prefault('5s'),
  /** The load after the warm-up; faults happen inside it. */
  duration: duration.prefault('40s'),
  /** Seeded users the load touches (1..users). */
  users: z.number().int().min(1).default(1000),
  /**
   * Per attempt, for the answer; a request that does not answer in time is tried once on the other proxy.
   * Long enough for a write the app holds while MariaDB fails over (up to 4 s), as a real client waits.
   */
  timeout: duration.prefault('5s'),
  /** Per attempt, for the TCP connect: a dark proxy costs this much before the other proxy is tried. */
  connectTimeout: duration.prefault('250ms'),
}).strict().refine((l) => l.createPercent + l.markReadPercent <= 100, 'createPercent + markReadPercent must be at most 100');

export const scenarioSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
  description: z.string().min(1),
  /** survives: every tier keeps enough members (pre-flight refuses otherwise); breaks: the scenario knows it breaks a tier. */
  expect: z.enum(['survives', 'breaks']).default('survives'),
  load: loadSchema.prefault({}),
  faults: z.array(faultSchema).min(1, 'a game day needs at least one fault'),
  responses: z.array(responseSchema).default([]),
  checks: checksSchema,
}).strict();
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioInput = z.input<typeof scenarioSchema>;
