import type { Connection } from 'mysql2/promise';

/** `p`, or a rejection once `ms` have passed ("<what>: no answer in <ms> ms"): a probe never waits on a dark host. */
export function within<T>(p: Promise<T>, ms: number, what?: string): Promise<T> {
  let timer: NodeJS.Timeout;
  const late = new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what ? `${what}: ` : ''}no answer in ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A connection within `ms`; one that opens after its deadline (a host powered on while its SYN was retried) is closed then, or its socket would outlive the game day. */
export async function connectWithin(connect: () => Promise<Connection>, ms: number, what?: string): Promise<Connection> {
  const connecting = connect();
  return within(connecting, ms, what).catch((err: unknown) => {
    void connecting.then((late) => late.destroy(), () => undefined);
    throw err;
  });
}
