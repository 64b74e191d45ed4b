import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

export type RequestKind = 'read' | 'create' | 'mark-read';

export interface ClientSample {
  at: number;
  kind: RequestKind;
  ok: boolean;
  status: number;
  ms: number;
  /** X-Read-Source of a successful read. */
  source: string | null;
  /** Each try: which frontend, how long, and its status (0: no answer in time). */
  tries: Array<{ frontend: number; ms: number; status: number; servedBy: string | null }>;
}

export interface ClientReport {
  samples: ClientSample[];
  failed: ClientSample[];
  /** From the start of the first failed request to the end of the last one; 0 without failures. */
  errorWindowMs: number;
  byKind: Record<RequestKind, { total: number; failed: number }>;
  /** Every create's title (unique per request, kept across its retry): each must exist exactly once if acknowledged. */
  createdTitles: string[];
}

/**
 * A client as the game day assumes one: each request times out after
 * `timeoutMs` and is tried once more on the other frontend; the frontend
 * that answered stays preferred. Creates carry an Idempotency-Key, kept
 * across the retry. 70 % reads, 20 % creates, 10 % mark-reads (of its own
 * notifications).
 */
export function startRetryingClient(o: { frontends: Array<{ address: string; port: number }>; users: number; ratePerS: number; timeoutMs: number; titlePrefix: string }) {
  const samples: ClientSample[] = [];
  const createdTitles: string[] = [];
  const own: Array<{ userId: number; id: number }> = [];
  let preferred = 0;
  let running = true;

  async function once(i: number): Promise<void> {
    const roll = (i * 37) % 100;
    const userId = 1 + ((i * 7919) % o.users);
    let kind: RequestKind = 'read';
    let init: RequestInit = {};
    let path = `/users/${userId}/notifications?limit=10`;
    if (roll >= 70 && roll < 90) {
      kind = 'create';
      const title = `${o.titlePrefix} ${i}`;
      createdTitles.push(title);
      init = { method: 'POST', headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() }, body: JSON.stringify({ title, body: 'retrying client' }) };
    } else if (roll >= 90) {
      kind = 'mark-read';
      const target = own.length > 0 ? own.splice((i * 31) % own.length, 1)[0] : { userId, id: userId };
      path = `/users/${target.userId}/notifications/${target.id}/read`;
      init = { method: 'POST' };
    }
    // The order is fixed when the request starts: another request's success must not send the retry back to the same frontend.
    const order = [preferred, ...o.frontends.keys()].filter((f, at, all) => all.indexOf(f) === at).slice(0, 2);
    const t0 = Date.now();
    let status = 0;
    let source: string | null = null;
    const tries: ClientSample['tries'] = [];
    for (const f of order) {
      const { address, port } = o.frontends[f];
      const t1 = Date.now();
      try {
        const res = await fetch(`http://${address}:${port}${path}`, { ...init, signal: AbortSignal.timeout(o.timeoutMs) });
        const text = await res.text();
        status = res.status;
        source = res.headers.get('x-read-source');
        tries.push({ frontend: f, ms: Date.now() - t1, status, servedBy: res.headers.get('x-served-by') });
        preferred = f;
        if (kind === 'create' && status === 201) own.push({ userId, id: (JSON.parse(text) as { id: number }).id });
        break;
      } catch {
        status = 0; // no answer in time: the other frontend
        tries.push({ frontend: f, ms: Date.now() - t1, status, servedBy: null });
      }
    }
    samples.push({ at: t0, kind, ok: status >= 200 && status < 300, status, ms: Date.now() - t0, source, tries });
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
    async stop(): Promise<ClientReport> {
      running = false;
      await loop;
      const failed = samples.filter((s) => !s.ok);
      const byKind = { read: { total: 0, failed: 0 }, create: { total: 0, failed: 0 }, 'mark-read': { total: 0, failed: 0 } };
      for (const s of samples) {
        byKind[s.kind].total++;
        if (!s.ok) byKind[s.kind].failed++;
      }
      const errorWindowMs = failed.length === 0 ? 0 : Math.max(...failed.map((s) => s.at + s.ms)) - Math.min(...failed.map((s) => s.at));
      return { samples, failed, errorWindowMs, byKind, createdTitles };
    },
  };
}
