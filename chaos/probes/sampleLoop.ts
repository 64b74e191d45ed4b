import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Takes a sample every `intervalMs` (the next one starts an interval after
 * the last one started, or at once when a sample took longer) until stopped.
 * `samples` is the live array: what a stop that hangs still has.
 */
export function sampleEvery<S>(intervalMs: number, take: (at: number) => Promise<S>, active = true): { samples: S[]; stop(): Promise<S[]> } {
  const samples: S[] = [];
  let running = active;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      samples.push(await take(at));
      await sleep(Math.max(0, intervalMs - (Date.now() - at)));
    }
  })();
  return {
    samples,
    async stop() {
      running = false;
      await loop;
      return samples;
    },
  };
}
