import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';

/** Waits until `t` (epoch ms), or throws when the run is stopped. */
export async function until(t: number, signal: AbortSignal): Promise<void> {
  const ms = t - Date.now();
  if (ms > 0) await sleep(ms, undefined, { signal });
  if (signal.aborted) throw new Error('stopped');
}

/** A phase of the wrap-up that must not hang the run: after `ms`, the fallback, and a log line naming the phase. */
export async function bounded<T>(what: string, p: Promise<T>, ms: number, fallback: T, log: Logger): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<T>((resolve) => (timer = setTimeout(() => {
    log.warn({ phase: what, ms }, `${what} did not end within ${ms} ms: going on without it`);
    resolve(fallback);
  }, ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Seconds since the warm-up ended, as "+12.3s" ("-1.0s" during the warm-up). */
export function clock(ms: number): string {
  return `${ms < 0 ? '-' : '+'}${(Math.abs(ms) / 1000).toFixed(1)}s`;
}
