/**
 * The gates of a weight ramp: how the server being ramped does against the
 * other servers of the same pool, from HAProxy's own counters, over the
 * time it was held at a weight. Pure functions of two snapshots, so that
 * every verdict can be tested and explained.
 */
import type { ServerCounters } from '../drivers/haproxy/runtime.js';

export interface RampLimits {
  /** Errors the ramped server may have above its peers, in percent of its sessions. */
  maxErrorPercent: number;
  /** How many times its peers' response time it may take. */
  maxSlowdown: number;
  /** Requests it may have queued. */
  maxQueued: number;
}

export const DEFAULT_RAMP_LIMITS: RampLimits = { maxErrorPercent: 1, maxSlowdown: 2, maxQueued: 10 };

export interface GateVerdict {
  ok: boolean;
  detail: string;
  /** On a pass: what could not be judged (too few answers), each said in the detail too. */
  unjudged?: string[];
}

/** The answers HAProxy's rtime averages over. */
export const RTIME_SPAN = 1024;

const rate = (errors: number, sessions: number) => (sessions > 0 ? (errors / sessions) * 100 : 0);

/**
 * The ramped server against its peers in one backend on one proxy, between
 * two snapshots. A server with too few sessions to judge (under 20 in the
 * window) passes on errors; response time needs peers that answered.
 */
export function judgePool(before: ServerCounters[], after: ServerCounters[], backend: string, server: string, limits: RampLimits): GateVerdict {
  const find = (rows: ServerCounters[], name: string) => rows.find((r) => r.backend === backend && r.server === name);
  const mine = find(after, server);
  const mineBefore = find(before, server);
  if (!mine || !mineBefore) return { ok: false, detail: `${backend}/${server} is not in this proxy's stats` };
  if (!mine.status.startsWith('UP')) return { ok: false, detail: `${backend}/${server} is ${mine.status}` };
  const peers = after.filter((r) => r.backend === backend && r.server !== server && r.status.startsWith('UP'));
  const sessions = mine.sessions - mineBefore.sessions;
  const errors = mine.errors - mineBefore.errors;
  let peerSessions = 0;
  let peerErrors = 0;
  for (const p of peers) {
    const b = find(before, p.server);
    if (!b) continue;
    peerSessions += p.sessions - b.sessions;
    peerErrors += p.errors - b.errors;
  }
  const myRate = rate(errors, sessions);
  const peerRate = rate(peerErrors, peerSessions);
  const problems: string[] = [];
  if (sessions >= 20 && errors > 0 && myRate > peerRate + limits.maxErrorPercent) {
    problems.push(`${errors} errors in ${sessions} sessions (${myRate.toFixed(1)} %, peers ${peerRate.toFixed(1)} %, allowed ${limits.maxErrorPercent} % more)`);
  }
  const peerMs = peers.map((p) => p.responseMs).filter((ms) => ms > 0).sort((a, b) => a - b);
  const median = peerMs.length ? peerMs[Math.floor(peerMs.length / 2)] : 0;
  // HAProxy's rtime is the mean of the server's last 1024 answers: it speaks of this window only once the
  // window holds that many (before, it is mostly history: a slow minute an hour ago). Below 20 ms everything
  // answers fast enough: a 2 ms peer does not make a 5 ms server slow.
  if (sessions >= RTIME_SPAN && median > 0 && mine.responseMs > Math.max(20, median * limits.maxSlowdown)) {
    problems.push(`answers in ${mine.responseMs} ms against its peers' ${median} ms (allowed ${limits.maxSlowdown}x)`);
  }
  if (mine.queued > limits.maxQueued) problems.push(`${mine.queued} requests queued (allowed ${limits.maxQueued})`);
  if (problems.length) return { ok: false, detail: `${backend}/${server}: ${problems.join('; ')}` };
  // A pass says what it could not judge: too few answers is not "as fast as its peers".
  const unjudged = [
    ...(sessions < 20 ? [`errors not judged (${sessions} sessions, needs 20)`] : []),
    ...(median > 0 && sessions < RTIME_SPAN ? [`response time not judged (${sessions} answers in the hold, HAProxy's average needs ${RTIME_SPAN}: hold longer)`] : []),
  ];
  const detail = `${backend}/${server}: ${sessions} sessions, ${errors} errors (peers ${peerRate.toFixed(1)} %), ${mine.responseMs} ms (peers ${median} ms)`;
  return unjudged.length ? { ok: true, detail: `${detail}; ${unjudged.join('; ')}`, unjudged } : { ok: true, detail };
}
