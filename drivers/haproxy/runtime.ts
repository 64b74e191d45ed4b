import { createConnection } from 'node:net';

/** Where a HAProxy runtime API listens: a unix socket path, or TCP. */
export type RuntimeEndpoint = string | { host: string; port: number };

function describeEndpoint(e: RuntimeEndpoint): string {
  return typeof e === 'string' ? e : `${e.host}:${e.port}`;
}

/**
 * Sends one command to a HAProxy runtime API (unix socket path or TCP) and
 * returns the whole answer. The socket closes after one command in
 * non-interactive mode.
 */
export function runtimeCommand(endpoint: RuntimeEndpoint, command: string, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const sock = typeof endpoint === 'string' ? createConnection({ path: endpoint }) : createConnection(endpoint);
    const timer = setTimeout(() => sock.destroy(new Error(`HAProxy runtime API ${describeEndpoint(endpoint)} did not answer "${command}" in ${timeoutMs} ms`)), timeoutMs);
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

/** The `show stat` rows of servers (not the FRONTEND and BACKEND summary rows). */
async function serverRows(endpoint: RuntimeEndpoint): Promise<StatRow[]> {
  return parseShowStat(await runtimeCommand(endpoint, 'show stat')).filter((r) => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND');
}

export async function showServers(endpoint: RuntimeEndpoint): Promise<ServerView[]> {
  return (await serverRows(endpoint)).map((r) => ({
    backend: r.pxname,
    server: r.svname,
    status: r.status,
    weight: Number(r.weight),
    checkStatus: r.check_status,
    currentSessions: Number(r.scur),
  }));
}

/** One server's counters on one proxy. */
export interface ServerCounters {
  backend: string;
  server: string;
  status: string;
  /** Sessions since start (cumulative). */
  sessions: number;
  /** Failed answers since start: 5xx answers, response errors, connection errors (cumulative). */
  errors: number;
  /** Average response time over the last 1024 requests, ms (HTTP pools; 0 in TCP pools). */
  responseMs: number;
  /** Requests waiting in the server's queue now. */
  queued: number;
}

/** Every server's counters as this proxy has them now (cumulative sessions and errors, response time, queue). */
export async function serverCounters(endpoint: RuntimeEndpoint): Promise<ServerCounters[]> {
  const n = (v: string | undefined) => Number(v || 0);
  return (await serverRows(endpoint)).map((r) => ({
    backend: r.pxname,
    server: r.svname,
    status: r.status,
    sessions: n(r.stot),
    errors: n(r.hrsp_5xx) + n(r.eresp) + n(r.econ),
    responseMs: n(r.rtime),
    queued: n(r.qcur),
  }));
}

/** Names must be plain: a newline or ';' would smuggle a second runtime command. */
function checkName(what: string, name: string): string {
  if (!/^[A-Za-z0-9_.:-]+$/.test(name)) throw new Error(`invalid HAProxy ${what} name: ${JSON.stringify(name)}`);
  return name;
}

/** Runs a command that answers nothing on success; any answer is the error text. */
async function runtimeAction(endpoint: RuntimeEndpoint, command: string): Promise<void> {
  const answer = (await runtimeCommand(endpoint, command)).trim();
  if (answer !== '') throw new Error(`HAProxy ${describeEndpoint(endpoint)} refused "${command}": ${answer}`);
}

export type ServerAdminState = 'ready' | 'drain' | 'maint';

export function setServerState(endpoint: RuntimeEndpoint, backend: string, server: string, state: ServerAdminState): Promise<void> {
  return runtimeAction(endpoint, `set server ${checkName('backend', backend)}/${checkName('server', server)} state ${state}`);
}

/** Sets a weight: an absolute 0-256, or a percentage ("25%") of the configured weight. */
export async function setWeight(endpoint: RuntimeEndpoint, backend: string, server: string, weight: number | `${number}%`): Promise<void> {
  await runtimeAction(endpoint, `set weight ${checkName('backend', backend)}/${checkName('server', server)} ${weight}`);
}

/** The current and configured weight ("get weight" answers "25 (initial 100)"). */
export async function getWeight(endpoint: RuntimeEndpoint, backend: string, server: string): Promise<{ current: number; initial: number }> {
  const answer = await runtimeCommand(endpoint, `get weight ${checkName('backend', backend)}/${checkName('server', server)}`);
  const m = answer.match(/^(\d+) \(initial (\d+)\)/);
  if (!m) throw new Error(`HAProxy ${describeEndpoint(endpoint)}: unexpected answer to get weight: ${answer.trim()}`);
  return { current: Number(m[1]), initial: Number(m[2]) };
}

/** A server's `show stat` status in one backend ("UP", "UP 1/3", "DOWN", "MAINT", "DRAIN", …), '' when the backend does not list it. */
export async function serverStatus(endpoint: RuntimeEndpoint, backend: string, server: string): Promise<string> {
  return (await showServers(endpoint)).find((v) => v.backend === backend && v.server === server)?.status ?? '';
}

/** Whether a `show stat` status is an admin state set by hand (maint, drain), which no health check lifts: only `set server … state ready` does. */
export function isHeldByAdmin(status: string): boolean {
  return /^(MAINT|DRAIN)/.test(status);
}

/**
 * Marks a server's health up now, rather than after its checks' rise x
 * inter; the checks go on, and confirm it or take it down again. The command
 * is sent as it always was: its answer is not read and the names are not
 * checked (the other commands here refuse an answer and a name HAProxy could
 * not have).
 */
export async function forceHealthUp(endpoint: RuntimeEndpoint, backend: string, server: string): Promise<void> {
  await runtimeCommand(endpoint, `set server ${backend}/${server} health up`);
}

/**
 * Puts a server in service on this proxy at once: back to ready when it is
 * held in maint or drain, then its health forced up unless it is UP already.
 */
export async function openServer(endpoint: RuntimeEndpoint, backend: string, server: string): Promise<void> {
  const status = await serverStatus(endpoint, backend, server);
  if (isHeldByAdmin(status)) await setServerState(endpoint, backend, server, 'ready');
  if (!status.startsWith('UP')) await forceHealthUp(endpoint, backend, server);
}

/** The frontends of a proxy (its listen sections), from `show stat` of the frontends only. */
export async function frontendNames(endpoint: RuntimeEndpoint): Promise<string[]> {
  const csv = await runtimeCommand(endpoint, 'show stat -1 1 -1');
  return csv.split('\n').filter((l) => l.includes(',FRONTEND,')).map((l) => l.split(',')[0]);
}

/** Stops a frontend accepting connections (its clients go to the other proxies). Sent as it always was: the answer is not read. */
export async function disableFrontend(endpoint: RuntimeEndpoint, frontend: string): Promise<void> {
  await runtimeCommand(endpoint, `disable frontend ${frontend}`);
}

/** Ends every session a server has in one backend (pooled idle connections never leave by themselves). Sent as it always was: the answer is not read. */
export async function shutdownServerSessions(endpoint: RuntimeEndpoint, backend: string, server: string): Promise<void> {
  await runtimeCommand(endpoint, `shutdown sessions server ${backend}/${server}`);
}
