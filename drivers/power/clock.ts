import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Time as the power drivers see it: injected so that tests of polling and
 * timeouts run instantly on a fake clock instead of waiting for real.
 */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => sleep(ms),
};
