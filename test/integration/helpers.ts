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

/** The median time of `tries` TCP connects (one round trip each) from inside a host's namespace, in ms. */
export async function connectMsFrom(lab: LabContext, host: string, address: string, port: number, tries = 5): Promise<number> {
  const script = `const net=require('net');const ms=[];const one=()=>{const t=process.hrtime.bigint();const s=net.connect(${port},'${address}');` +
    `s.setTimeout(5000,()=>{console.log(-1);process.exit(0)});s.on('error',()=>{console.log(-1);process.exit(0)});` +
    `s.on('connect',()=>{ms.push(Number(process.hrtime.bigint()-t)/1e6);s.destroy();if(ms.length<${tries})one();else{ms.sort((a,b)=>a-b);console.log(ms[ms.length>>1])}})};one()`;
  const r = await execa('nsenter', [`--net=/run/netns/${lab.network.netns(host)}`, '--', process.execPath, '-e', script]);
  const median = Number(r.stdout.trim());
  if (!(median >= 0)) throw new Error(`no connect from ${host} to ${address}:${port}`);
  return median;
}

/**
 * Counts, while it is on, every packet the machine or a lab host sends to an
 * address that is neither loopback nor this lab's: in the machine's own
 * namespace, lab-looking (198.18.0.0/15) destinations leaving by any link
 * but a lab's bridge (other labs may run beside this one), and any
 * fixture-looking (10.0.0.0/8) destination; in each host's
 * namespace, any destination outside 127.0.0.0/8 and the lab's /24.
 */
export async function egressAudit(lab: LabContext): Promise<{ count: () => Promise<number>; stop: () => Promise<void> }> {
  const table = `gameday_egress_audit_${lab.state.octet}`;
  const subnet = `${lab.network.gateway.replace(/\.1$/, '')}.0/24`;
  // nft in the machine's namespace (netns undefined) or in a host's.
  const nft = (netns: string | undefined, args: string[], input?: string) =>
    netns ? execa('ip', ['netns', 'exec', netns, 'nft', ...args], { input, reject: !args.includes('delete') }) : execa('nft', args, { input, reject: !args.includes('delete') });
  const namespaces = [undefined, ...lab.inventory.hosts.map((h) => lab.network.netns(h.name))];
  await nft(undefined, ['-f', '-'], `table inet ${table} {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip daddr 198.18.0.0/15 oifname != "gd*" counter\n  ip daddr 10.0.0.0/8 counter\n }\n}\n`);
  for (const ns of namespaces.slice(1)) await nft(ns, ['-f', '-'], `table inet ${table} {\n chain out {\n  type filter hook output priority 0; policy accept;\n  ip daddr != { 127.0.0.0/8, ${subnet} } counter\n }\n}\n`);
  const packets = async (ns: string | undefined) =>
    [...(await nft(ns, ['list', 'table', 'inet', table])).stdout.matchAll(/counter packets (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
  return {
    count: async () => (await Promise.all(namespaces.map(packets))).reduce((a, b) => a + b, 0),
    stop: async () => {
      for (const ns of namespaces) await nft(ns, ['delete', 'table', 'inet', table]);
    },
  };
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
