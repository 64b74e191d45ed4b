import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestKind } from './targets.js';

export interface LoopOptions {
  /** Web frontends (the proxies), tried in order: a client that knows both. */
  frontends: Array<{ address: string; port: number }>;
  users: number;
  ratePerS: number;
  /** Share of writes (new notifications), in percent. */
  writePercent: number;
  timeoutMs?: number;
}

export interface LoopSample {
  at: number;
  kind: RequestKind;
  ok: boolean;
  status: number;
  ms: number;
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
}

/**
 * A load loop that runs until stopped: a steady stream of reads and writes
 * against the app, failing over to the next frontend when one does not
 * answer (as the app's own clients do). For long operations whose end is
 * not known in advance (a reboot cycle), where a fixed-duration tool won't do.
 */
export function startLoadLoop(o: LoopOptions): { stop: () => Promise<LoopReport> } {
  const samples: LoopSample[] = [];
  let running = true;
  let preferred = 0;
  const started = Date.now();

  async function once(i: number): Promise<void> {
    const user = 1 + ((i * 7919) % o.users);
    const kind: RequestKind = i % 100 < o.writePercent ? 'create' : 'read';
    const t0 = Date.now();
    let status = 0;
    for (let attempt = 0; attempt < o.frontends.length; attempt++) {
      const f = o.frontends[(preferred + attempt) % o.frontends.length];
      const url = `http://${f.address}:${f.port}/users/${user}/notifications`;
      try {
        const res = await fetch(kind === 'read' ? `${url}?limit=10` : url, {
          method: kind === 'read' ? 'GET' : 'POST',
          headers: { 'content-type': 'application/json' },
          body: kind === 'read' ? undefined : JSON.stringify({ title: `loop ${i}`, body: 'load loop' }),
          signal: AbortSignal.timeout(o.timeoutMs ?? 3000),
        });
        await res.arrayBuffer();
        status = res.status;
        preferred = (preferred + attempt) % o.frontends.length;
        break;
      } catch {
        status = 0; // no answer from this frontend: try the next
      }
    }
    samples.push({ at: t0, kind, ok: status >= 200 && status < 300, status, ms: Date.now() - t0 });
  }

  const loop = (async () => {
    const inFlight = new Set<Promise<void>>();
    for (let i = 0; running; i++) {
      const p = once(i).finally(() => inFlight.delete(p));
      inFlight.add(p);
      await sleep(1000 / o.ratePerS);
    }
    await Promise.all(inFlight);
  })();

  return {
    async stop() {
      running = false;
      await loop;
      return report(samples, started);
    },
  };
}

export function report(samples: LoopSample[], started: number): LoopReport {
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
