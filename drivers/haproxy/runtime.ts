import { createConnection } from 'node:net';

/**
 * Sends one command to a HAProxy runtime API socket (unix path) and returns the
 * whole answer. The socket closes after one command in non-interactive mode.
 */
export function runtimeCommand(socketPath: string, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = createConnection({ path: socketPath });
    const timer = setTimeout(() => sock.destroy(new Error(`HAProxy runtime API ${socketPath} did not answer "${command}" in ${timeoutMs} ms`)), timeoutMs);
    sock.on('connect', () => sock.write(`${command}\n`));
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    sock.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** One row of `show stat`: a frontend, a backend or a server, keyed by the CSV header names. */
export type StatRow = Record<string, string>;

export function parseShowStat(csv: string): StatRow[] {
  const lines = csv.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0]?.replace(/^#\s*/, '').split(',');
  if (!header) return [];
  return lines.slice(1).map((line) => {
    const cells = line.split(',');
    return Object.fromEntries(header.map((h, i) => [h, cells[i] ?? '']));
  });
}

/** The state and weight of every server of every backend, as this proxy sees them now. */
export interface ServerView {
  backend: string;
  server: string;
  status: string;
  weight: number;
  checkStatus: string;
  currentSessions: number;
}

export async function showServers(socketPath: string): Promise<ServerView[]> {
  const rows = parseShowStat(await runtimeCommand(socketPath, 'show stat'));
  return rows
    .filter((r) => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND')
    .map((r) => ({
      backend: r.pxname,
      server: r.svname,
      status: r.status,
      weight: Number(r.weight),
      checkStatus: r.check_status,
      currentSessions: Number(r.scur),
    }));
}
