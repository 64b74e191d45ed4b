import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request as httpRequest } from 'undici';
import type { RequestKind } from './targets.js';

export interface LoopOptions {
  /** Web frontends (the proxies), tried in order: a client that knows both. */
  frontends: Array<{ address: string; port: number }>;
  users: number;
  ratePerS: number;
  /** Share of new notifications, in percent. */
  createPercent: number;
  /** Share of mark-reads (of notifications this loop created, else of seeded ones), in percent; the rest are reads. */
  markReadPercent?: number;
  /** Per attempt, for the answer; a request that times out is tried once on the next frontend. */
  timeoutMs?: number;
  /** Per attempt, for the TCP connect: a proxy that lost power answers no SYN, and this is how long that costs. */
  connectTimeoutMs?: number;
}

/** A write the app acknowledged (201 for a create, 200 for a mark-read): what must never be lost. */
export interface AckedWrite {
  userId: number;
  id: number;
  at: number;
  /** A create's title, unique to this loop and request: what tells the row it created from a row that reuses its id. */
  title?: string;
}

export interface LoopSample {
  at: number;
  kind: RequestKind;
  ok: boolean;
  status: number;
  ms: number;
  /** The frontend (proxy address) that answered, or the last one tried. */
  frontend?: string;
  /** The app instance that served it (the app's X-Served-By header). */
  servedBy?: string;
  /** Reads: where the app read from (X-Read-Source: redis or mariadb). */
  readSource?: string;
  /** Why it failed: "timeout", "refused", or the HTTP status. */
  error?: string;
}

export interface LoopReport {
  durationS: number;
  reads: { total: number; failed: number };
  writes: { total: number; failed: number };
  /** The longest time between two successful writes, in ms: how long writes paused. */
  longestWriteGapMs: number;
  /** When that pause began (the last successful write before it). */
  longestWriteGapFrom?: string;
  failures: Array<{ at: string; kind: RequestKind; status: number }>;
  /** Every acknowledged create and mark-read, to check against the stores afterwards. */
  acked: { created: AckedWrite[]; markedRead: AckedWrite[] };
  /** Every request's outcome, in the order they were sent. */
  samples: LoopSample[];
}

/** The error of a request that had no answer yet when the load was stopped. */
export const IN_FLIGHT = 'in flight when the load stopped';

/** One request of the loop, before it is sent. */
interface LoopRequest {
  kind: RequestKind;
  path: string;
  method: string;
  body?: string;
  userId: number;
  id?: number;
  /** A create's title. */
  title?: string;
}

/** What the frontends answered to one request, after every attempt it took. */
interface Answered {
  status: number;
  answer?: { id?: number };
  frontend?: string;
  servedBy?: string;
  readSource?: string;
  error?: string;
}

/**
 * A load loop that runs until stopped: a steady stream of reads and writes
 * against the app, failing over to the next frontend when one does not
 * answer (as the app's own clients do). For long operations whose end is
 * not known in advance (a reboot cycle), where a fixed-duration tool won't do.
 */
export function startLoadLoop(o: LoopOptions): { stop: () => Promise<LoopReport>; peek: () => LoopSample[]; peekInFlight: () => LoopSample[]; peekAcked: () => LoopReport['acked'] } {
  const samples: LoopSample[] = [];
  const acked: LoopReport['acked'] = { created: [], markedRead: [] };
  const unreadOfOurs: AckedWrite[] = [];
  let running = true;
  let preferred = 0;
  const started = Date.now();
  const runKey = `load-${started.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  // A new connection per request (pipelining 0: no keep-alive), as many clients behind a load balancer
  // have: a dark proxy then costs one connect timeout, not the answer timeout of a kept-alive socket.
  const agent = new Agent({ connect: { timeout: o.connectTimeoutMs ?? 250 }, pipelining: 0 });

  // Requests sent and not answered yet, by their number: if the load is cut short they count as failed, never dropped.
  const pending = new Map<number, { at: number; kind: RequestKind }>();

  async function once(i: number): Promise<void> {
    const r = requestOf(i, o, unreadOfOurs, runKey);
    const t0 = Date.now();
    pending.set(i, { at: t0, kind: r.kind });
    // The same key on a retry through the other proxy: the app creates the notification once.
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (r.kind === 'create') headers['idempotency-key'] = `${runKey}-${i}`;
    // The first frontend is chosen when the request starts: a success meanwhile must not send the retry back to the dark one.
    const { status, answer, frontend, servedBy, readSource, error } = await send(r, headers, o, agent, preferred, (n) => (preferred = n));
    const ok = status >= 200 && status < 300;
    pending.delete(i);
    samples.push({ at: t0, kind: r.kind, ok, status, ms: Date.now() - t0, frontend, servedBy, readSource, ...(ok ? {} : { error }) });
    if (ok && r.kind === 'create' && typeof answer?.id === 'number') {
      const w = { userId: r.userId, id: answer.id, at: Date.now(), title: r.title };
      acked.created.push(w);
      unreadOfOurs.push(w);
    }
    if (ok && r.kind === 'mark-read') acked.markedRead.push({ userId: r.userId, id: r.id!, at: Date.now() });
  }

  const loop = (async () => {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; running; i++) {
      const p = once(i).finally(() => inFlight.delete(p));
      inFlight.add(p);
      // A fixed sleep between sends: on a loaded machine the loop falls behind its rate (it sent about 75 % of
      // 80/s beside a second lab); pacing on a schedule sent bursts that failed reboot-cycle's error budget.
      await sleep(1000 / o.ratePerS);
    }
    await Promise.all(inFlight);
  })();

  return {
    /** The outcomes so far (requests still in flight are not in it yet). */
    peek: () => samples.slice(),
    /** The requests still waiting for an answer, as failures ("in flight when the load stopped"): what a report cut short must count. */
    peekInFlight: () => [...pending.values()].map((p) => ({ at: p.at, kind: p.kind, ok: false, status: 0, ms: Date.now() - p.at, error: IN_FLIGHT })),
    /** The writes acknowledged so far. */
    peekAcked: () => ({ created: acked.created.slice(), markedRead: acked.markedRead.slice() }),
    async stop() {
      running = false;
      await loop;
      await agent.close();
      return { ...report(samples, started), acked, samples };
    },
  };
}

/** The i-th request of the loop; a mark-read takes (and removes) one of `unreadOfOurs` when there is one. */
function requestOf(i: number, o: LoopOptions, unreadOfOurs: AckedWrite[], runKey: string): LoopRequest {
  const roll = (i * 37) % 100; // a permutation of 0..99 in every 100 requests: the kinds interleave
  const userId = 1 + ((i * 7919) % o.users);
  if (roll < o.createPercent) {
    return { kind: 'create', method: 'POST', path: `/users/${userId}/notifications`, title: `loop ${runKey} ${i}`, body: JSON.stringify({ title: `loop ${runKey} ${i}`, body: 'load loop' }), userId };
  }
  if (roll < o.createPercent + (o.markReadPercent ?? 0)) {
    // One of our own unread notifications, picked at random, else a seeded one (ids u, u + users, ...).
    const own = unreadOfOurs.length > 0 ? unreadOfOurs.splice((i * 31) % unreadOfOurs.length, 1)[0] : undefined;
    const target = own ?? { userId, id: userId };
    return { kind: 'mark-read', method: 'POST', path: `/users/${target.userId}/notifications/${target.id}/read`, userId: target.userId, id: target.id };
  }
  return { kind: 'read', method: 'GET', path: `/users/${userId}/notifications?limit=10`, userId };
}

/**
 * Sends one request, from frontend `first` on, to the next when one gives no
 * answer; `prefer` is told the frontend that answered, as soon as it has.
 */
async function send(r: LoopRequest, headers: Record<string, string>, o: LoopOptions, agent: Agent, first: number, prefer: (frontend: number) => void): Promise<Answered> {
  let status = 0;
  let answer: { id?: number } | undefined;
  let frontend: string | undefined;
  let servedBy: string | undefined;
  let readSource: string | undefined;
  let error: string | undefined;
  const attempts: string[] = [];
  for (let attempt = 0; attempt < o.frontends.length; attempt++) {
    const f = o.frontends[(first + attempt) % o.frontends.length];
    frontend = f.address;
    try {
      const res = await httpRequest(`http://${f.address}:${f.port}${r.path}`, {
        dispatcher: agent,
        method: r.method as 'GET' | 'POST',
        headers,
        body: r.body,
        signal: AbortSignal.timeout(o.timeoutMs ?? 3000),
      });
      const text = await res.body.text();
      status = res.statusCode;
      servedBy = header(res.headers['x-served-by']);
      readSource = header(res.headers['x-read-source']);
      if (status >= 200 && status < 300 && r.kind !== 'read') answer = JSON.parse(text) as { id?: number };
      if (status < 200 || status >= 300) error = `HTTP ${status}`;
      prefer((first + attempt) % o.frontends.length);
      break;
    } catch (err) {
      status = 0; // no answer from this frontend: try the next
      error = failureOf(err);
    }
    attempts.push(`${f.address}: ${error ?? `HTTP ${status}`}`);
  }
  // A failure names every attempt: "198.18.20.31: timeout; 198.18.20.231: HTTP 503".
  if (error !== undefined && attempts.length > 1) error = attempts.join('; ');
  return { status, answer, frontend, servedBy, readSource, error };
}

function header(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** Why an attempt got no answer, as the report shows it. */
function failureOf(err: unknown): string {
  const e = err as { name?: string; code?: string };
  if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return 'connect timeout';
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_ABORTED') return 'timeout';
  return 'no connection';
}

export function report(samples: LoopSample[], started: number): Omit<LoopReport, 'acked' | 'samples'> {
  const reads = samples.filter((s) => s.kind === 'read');
  const writes = samples.filter((s) => s.kind !== 'read');
  const okWrites = writes.filter((s) => s.ok).map((s) => s.at + s.ms).sort((a, b) => a - b);
  let gap = 0;
  let gapFrom: number | undefined;
  for (let i = 1; i < okWrites.length; i++) {
    if (okWrites[i] - okWrites[i - 1] > gap) {
      gap = okWrites[i] - okWrites[i - 1];
      gapFrom = okWrites[i - 1];
    }
  }
  return {
    durationS: Math.round((Date.now() - started) / 100) / 10,
    reads: { total: reads.length, failed: reads.filter((s) => !s.ok).length },
    writes: { total: writes.length, failed: writes.filter((s) => !s.ok).length },
    longestWriteGapMs: gap,
    longestWriteGapFrom: gapFrom === undefined ? undefined : new Date(gapFrom).toISOString(),
    failures: samples.filter((s) => !s.ok).map((s) => ({ at: new Date(s.at).toISOString(), kind: s.kind, status: s.status })),
  };
}
