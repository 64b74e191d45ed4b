/**
 * The gates of a ramp through an ALB target group or a Route 53 weighted
 * record: its targets' health, its errors and response time against the
 * shares it splits traffic with, its Route 53 health check, and the alarms
 * the operator named. Pure, so that every verdict can be tested.
 */
import type { ShareHealth } from '../drivers/traffic/types.js';
import type { GateVerdict, RampLimits } from './rampGates.js';

const rate = (errors: number, requests: number) => (requests > 0 ? (errors / requests) * 100 : 0);

/** Requests below which errors and response time are not judged (as for HAProxy servers). */
const MIN_REQUESTS = 20;

export function judgeShare(label: string, health: ShareHealth, alarmsFiring: string[], limits: Pick<RampLimits, 'maxErrorPercent' | 'maxSlowdown'>): GateVerdict {
  const problems: string[] = [];
  const facts: string[] = [];
  if (health.targets) {
    const t = health.targets;
    if (t.total === 0) problems.push('no registered targets');
    else if (t.unhealthy.length > 0) problems.push(`${t.unhealthy.length} of ${t.total} targets not healthy: ${t.unhealthy.slice(0, 5).join(', ')}${t.unhealthy.length > 5 ? ', …' : ''}`);
    else facts.push(`${t.healthy} of ${t.total} targets healthy`);
  }
  if (health.traffic) {
    const { own, peers } = health.traffic;
    const peerRequests = peers.reduce((a, p) => a + p.requests, 0);
    const peerRate = rate(peers.reduce((a, p) => a + p.errors, 0), peerRequests);
    const myRate = rate(own.errors, own.requests);
    if (own.requests >= MIN_REQUESTS && own.errors > 0 && myRate > peerRate + limits.maxErrorPercent) {
      problems.push(`${own.errors} 5xx in ${own.requests} requests (${myRate.toFixed(1)} %, peers ${peerRate.toFixed(1)} %, allowed ${limits.maxErrorPercent} % more)`);
    }
    const peerMs = peers.map((p) => p.responseMs ?? 0).filter((ms) => ms > 0).sort((a, b) => a - b);
    const median = peerMs.length ? peerMs[Math.floor(peerMs.length / 2)] : 0;
    if (own.requests >= MIN_REQUESTS && own.responseMs !== undefined && median > 0 && own.responseMs > Math.max(20, median * limits.maxSlowdown)) {
      problems.push(`answers in ${own.responseMs} ms against its peers' ${median} ms (allowed ${limits.maxSlowdown}x)`);
    }
    facts.push(`${own.requests} requests, ${own.errors} 5xx (peers ${peerRate.toFixed(1)} %)${own.responseMs !== undefined ? `, ${own.responseMs} ms (peers ${median} ms)` : ''}`);
  }
  if (health.healthCheck) {
    const h = health.healthCheck;
    // Route 53 itself calls an endpoint healthy when over 18 % of its checkers do; a ramp asks for a majority.
    if (h.checkers === 0 || h.healthy * 2 <= h.checkers) problems.push(`health check ${h.id}: ${h.healthy} of ${h.checkers} checkers see it healthy`);
    else facts.push(`health check ${h.healthy} of ${h.checkers} healthy`);
  }
  if (alarmsFiring.length > 0) problems.push(`alarm ${alarmsFiring.join(', ')}`);
  return problems.length ? { ok: false, detail: `${label}: ${problems.join('; ')}` } : { ok: true, detail: `${label}: ${facts.join(', ') || 'no gate data (no targets, metrics or health check)'}` };
}
