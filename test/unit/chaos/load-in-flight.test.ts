import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { IN_FLIGHT, startLoadLoop, type LoopSample } from '../../../chaos/load/loop.js';
import { writeRequests } from '../../../chaos/report/write.js';

let server: Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  if (server?.listening) server.close();
});

/** An app on loopback that answers reads at once and never answers a write. */
async function stuckWrites(): Promise<{ address: string; port: number }> {
  server = createServer((req, res) => {
    if (req.method === 'GET') res.writeHead(200, { 'x-served-by': 'app-1' }).end('[]');
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { address: '127.0.0.1', port: (server!.address() as AddressInfo).port };
}

describe('requests still in flight when a game day\'s load is cut short', () => {
  it('count as failed, never dropped', async () => {
    const frontend = await stuckWrites();
    const load = startLoadLoop({ frontends: [frontend], users: 10, ratePerS: 50, createPercent: 50, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 600));
    const answered = load.peek();
    const inFlight = load.peekInFlight();
    expect(answered.length).toBeGreaterThan(0);
    expect(answered.every((s) => s.kind === 'read' && s.ok)).toBe(true);
    // Every write is still waiting: each is there, as a failure that says why (a read may be caught in flight too).
    expect(inFlight.filter((s) => s.kind === 'create').length).toBeGreaterThan(5);
    expect(inFlight.every((s) => !s.ok && s.error === IN_FLIGHT && s.ms >= 0)).toBe(true);
    // Stop sending first, then close the app: a write whose connect the app had not accepted yet is refused, not left hanging.
    const stopping = load.stop();
    server!.close();
    server!.closeAllConnections();
    await stopping;
  });
});

describe('requests.jsonl', () => {
  it('holds one line per request: start, end, kind, frontend, app instance, status, error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gameday-requests-'));
    const at = Date.UTC(2026, 0, 1, 3, 0, 0);
    const requests: LoopSample[] = [
      { at, kind: 'read', ok: true, status: 200, ms: 12, frontend: '198.18.22.31', servedBy: 'app-2', readSource: 'redis' },
      { at: at + 100, kind: 'create', ok: false, status: 0, ms: 3000, frontend: '198.18.22.231', error: 'timeout' },
    ];
    const lines = readFileSync(writeRequests(dir, requests), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toEqual([
      { start: '2026-01-01T03:00:00.000Z', end: '2026-01-01T03:00:00.012Z', kind: 'read', frontend: '198.18.22.31', servedBy: 'app-2', readSource: 'redis', status: 200, ok: true, error: null },
      { start: '2026-01-01T03:00:00.100Z', end: '2026-01-01T03:00:03.100Z', kind: 'create', frontend: '198.18.22.231', servedBy: null, readSource: null, status: 0, ok: false, error: 'timeout' },
    ]);
  });
});
