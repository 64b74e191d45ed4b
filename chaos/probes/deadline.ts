import type { Connection } from 'mysql2/promise';
import { within } from '../../core/deadline.js';

export { within };

/** A connection within `ms`; one that opens after its deadline (a host powered on while its SYN was retried) is closed then, or its socket would outlive the game day. */
export async function connectWithin(connect: () => Promise<Connection>, ms: number, what?: string): Promise<Connection> {
  const connecting = connect();
  return within(connecting, ms, what).catch((err: unknown) => {
    void connecting.then((late) => late.destroy(), () => undefined);
    throw err;
  });
}
