/**
 * The notification center's traffic mix as a list of vegeta targets
 * (JSON target format), cycled in order by the attack: mostly reads of a
 * user's notifications, some new notifications, some marked read.
 */
export interface LoadMix {
  /** How many distinct targets to generate (the attack cycles through them). */
  count: number;
  /** Seeded users: ids 1..users. */
  users: number;
  notificationsPerUser: number;
  /** Shares of the mix, in percent; the rest are reads. */
  createPercent: number;
  markReadPercent: number;
}

export type RequestKind = 'read' | 'create' | 'mark-read';

export interface VegetaTarget {
  method: string;
  url: string;
  body?: string;
  header?: Record<string, string[]>;
}

/** The logical host the targets name; vegeta's -connect-to maps it to the proxies. */
export const LOAD_HOST = 'notification-center.lab';

/** A small deterministic generator, so the same mix gives the same targets. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

export function buildTargets(mix: LoadMix, port: number, seed = 42): VegetaTarget[] {
  const rand = prng(seed);
  const json = { 'Content-Type': ['application/json'] };
  const base = `http://${LOAD_HOST}:${port}`;
  const targets: VegetaTarget[] = [];
  for (let i = 0; i < mix.count; i++) {
    const user = 1 + Math.floor(rand() * mix.users);
    const roll = rand() * 100;
    if (roll < mix.createPercent) {
      const body = JSON.stringify({ title: `Load test ${i}`, body: 'Sent by gameday load' });
      targets.push({ method: 'POST', url: `${base}/users/${user}/notifications`, body: Buffer.from(body).toString('base64'), header: json });
    } else if (roll < mix.createPercent + mix.markReadPercent) {
      // Seeded notification ids for user u are u, u + users, u + 2*users, ...
      const nth = Math.floor(rand() * mix.notificationsPerUser);
      targets.push({ method: 'POST', url: `${base}/users/${user}/notifications/${user + nth * mix.users}/read` });
    } else {
      targets.push({ method: 'GET', url: `${base}/users/${user}/notifications?limit=20` });
    }
  }
  return targets;
}

export function kindOf(method: string, url: string): RequestKind {
  if (method === 'GET') return 'read';
  return url.endsWith('/read') ? 'mark-read' : 'create';
}
