import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { execa } from 'execa';
import { inject } from 'vitest';
import type { RowDataPacket } from 'mysql2/promise';
import { openLab, requireLab, type LabContext } from '../../lab/context.js';
import { labUp, type LabUpOptions } from '../../lab/up.js';
import { labDown } from '../../lab/down.js';
import { rootConnection } from '../../lab/bootstrap.js';

export const GAMEDAY = fileURLToPath(new URL('../../bin/gameday.js', import.meta.url));

export function sharedLab(): LabContext {
  return requireLab(inject('labDir'));
}

/** Runs the gameday CLI as a user would; never throws on a non-zero exit. */
export function cli(args: string[], env: Record<string, string> = {}) {
  return execa(process.execPath, [GAMEDAY, ...args], { reject: false, env: { GAMEDAY_LOG_LEVEL: 'warn', ...env } });
}

export async function rootQuery(lab: LabContext, host: string, sql: string, values: unknown[] = []): Promise<RowDataPacket[]> {
  const conn = await rootConnection(lab, lab.host(host));
  try {
    const [rows] = await conn.query<RowDataPacket[]>(sql, values);
    return rows;
  } finally {
    await conn.end();
  }
}

/** Polls until `check` returns a truthy value, or fails with the last error after `timeoutMs`. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    await sleep(250);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

type ConnectResult = 'connected' | 'refused' | 'hung';

/** How a TCP connect from the operator's side ends within `ms`: connected, refused, or hung (no answer at all). */
export function connectOutcome(address: string, port: number, ms: number): Promise<ConnectResult> {
  return new Promise((resolve) => {
    const sock = connect({ host: address, port });
    const timer = setTimeout(() => {
      sock.destroy();
      resolve('hung');
    }, ms);
    sock.on('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('connected');
    });
    sock.on('error', () => {
      clearTimeout(timer);
      resolve('refused');
    });
  });
}

/** The same, from inside a lab host's network namespace (a partition cuts the hosts' links, not the operator's). */
export async function connectOutcomeFrom(lab: LabContext, host: string, address: string, port: number, ms: number): Promise<ConnectResult> {
  const script = `const s=require('net').connect(${port},'${address}');const t=setTimeout(()=>{console.log('hung');process.exit(0)},${ms});` +
    `s.on('connect',()=>{console.log('connected');process.exit(0)});s.on('error',()=>{console.log('refused');process.exit(0)})`;
  const r = await execa('nsenter', [`--net=/run/netns/${lab.network.netns(host)}`, '--', process.execPath, '-e', script]);
  return r.stdout.trim() as ConnectResult;
}

export { processAlive } from '../../engine/runState.js';

export async function http(url: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body };
}

/** A lab of a test file's own: up, or, when it fails half-way, its processes stopped before the error goes on. */
export async function ownLabUp(options: LabUpOptions): Promise<LabContext> {
  try {
    return await labUp(options);
  } catch (err) {
    const half = openLab(options.dir);
    if (half) await labDown(half);
    throw err;
  }
}

/** Takes that lab down, if it is (still) there. */
export async function ownLabDown(dir: string): Promise<void> {
  const left = openLab(dir);
  if (left) await labDown(left);
}
