import { spawn } from 'node:child_process';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { GamedayError } from '../core/errors.js';
import type { LabContext } from './context.js';
import { chownTree, type ServiceAccount } from './serviceAccounts.js';
import { inHostNamespace } from './network.js';

/** How to start one lab process and how to tell it is ready. */
export interface ProcessSpec {
  /** "<host>/<service>", e.g. "db-1/mariadbd". */
  id: string;
  host: string;
  command: string;
  args: string[];
  cwd?: string;
  /** Added to the environment it starts with (secrets go here, never in args: /proc/<pid>/cmdline is world-readable). */
  env?: Record<string, string>;
  logFile: string;
  /** Writes its config files; called just before it starts. */
  prepare?: () => void | Promise<void>;
  /** Resolves true once the process serves. */
  ready: () => Promise<boolean>;
  /** The network namespace of its host (lab/network.ts); missing: the machine's own. */
  netns?: string;
  /** The unprivileged account it runs as; its host folder becomes that account's (root when missing). */
  runAs?: ServiceAccount;
  /** A cgroup folder it joins before it execs (the disk model's read limit, lab/disk.ts). */
  cgroup?: string;
}

/** Makes a host's folder: data, sockets and configs that no other local user may enter; the service's own when it has an account. */
export function prepareHostDir(lab: LabContext, host: string, account: ServiceAccount | undefined): void {
  const dir = lab.hostDir(host);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dirname(dir), 0o711); // services pass through to their own folder; nobody lists the hosts
  chmodSync(dir, 0o700);
  if (account) chownTree(dir, account);
}

/**
 * True when the recorded PID is alive and is still our process: its command
 * line names the lab folder (a PID reused by another program is never ours).
 */
/** The process still exists and is not a zombie (a zombie holds no socket). */
function stillHolding(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

export function isOurs(lab: LabContext, pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    return cmdline.includes(lab.dir);
  } catch {
    return false;
  }
}

export function isRunning(lab: LabContext, id: string): boolean {
  const rec = lab.state.processes[id];
  return rec !== undefined && isOurs(lab, rec.pid);
}

/** When a lab host booted: the start of its oldest running process (undefined when none runs). */
export function hostBootedAt(lab: LabContext, hostName: string): number | undefined {
  const starts = Object.entries(lab.state.processes)
    .filter(([id, rec]) => rec.host === hostName && isRunning(lab, id))
    .map(([, rec]) => Date.parse(rec.startedAt));
  return starts.length ? Math.min(...starts) : undefined;
}

/** Starts a process detached from us (it outlives the command) in its host's network namespace, recording its PID. */
export async function startProcess(lab: LabContext, spec: ProcessSpec): Promise<number> {
  prepareHostDir(lab, spec.host, undefined);
  await spec.prepare?.();
  // What prepare wrote (configs) belongs to the service too: Redis and Sentinel rewrite their own.
  if (spec.runAs) prepareHostDir(lab, spec.host, spec.runAs);
  const out = openSync(spec.logFile, 'a');
  // nsenter and setpriv exec the service in place: the PID we record is the service's own.
  const run = inHostNamespace(spec.netns, spec.command, spec.args, spec.runAs, spec.cgroup);
  const child = spawn(run.command, run.args, {
    // A service that runs as its own account starts in its own folder: HAProxy goes back to the folder it
    // started in after reading its config, and ours (a clone under a 0700 folder, say) may be closed to it.
    cwd: spec.cwd ?? (spec.runAs ? lab.hostDir(spec.host) : undefined),
    env: { ...process.env, ...spec.env },
    detached: true,
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  if (child.pid === undefined) throw new Error(`could not start ${spec.id}: ${spec.command}`);
  child.unref();
  lab.state.processes[spec.id] = { host: spec.host, pid: child.pid, startedAt: new Date().toISOString() };
  lab.save();
  return child.pid;
}

/** The last lines of a log, for an error message (the folder may be gone by the time someone looks). */
function logTail(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join(' | ');
  } catch {
    return '';
  }
}

export async function waitReady(lab: LabContext, spec: ProcessSpec, timeoutMs = 60_000): Promise<void> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(lab, spec.id)) {
      // Between fork and exec the child still shows its parent's command line, which need not name the lab
      // (a test runner's does not); dropping its privileges first makes that window longer. Wait it out.
      const pid = lab.state.processes[spec.id]?.pid;
      if (pid !== undefined && stillHolding(pid) && Date.now() - started < 3000) {
        await sleep(20);
        continue;
      }
      const tail = logTail(spec.logFile);
      throw new GamedayError('LAB_PROCESS_DIED', `${spec.id} exited during start-up${tail ? `: ${tail}` : ''}`, spec.logFile, `read its log: ${spec.logFile}`);
    }
    if (await spec.ready().catch(() => false)) return;
    await sleep(200);
  }
  throw new GamedayError('LAB_PROCESS_NOT_READY', `${spec.id} did not become ready in ${timeoutMs / 1000} s`, spec.logFile, `read its log: ${spec.logFile}`);
}

/**
 * Stops one recorded process by its PID: SIGKILL at once (power loss), or
 * SIGTERM and then SIGKILL after `graceMs` (clean shutdown).
 */
/**
 * Stops a process of ours where it stands (SIGSTOP): the first instant of a
 * power loss. Nothing it had in hand completes after this, as on a host whose
 * power is cut: a MariaDB cannot commit a transaction its replicas never see.
 */
export function freezeProcess(lab: LabContext, id: string): void {
  const rec = lab.state.processes[id];
  if (rec && isOurs(lab, rec.pid)) process.kill(rec.pid, 'SIGSTOP');
}

/** Lets a frozen process go on (SIGCONT). */
export function thawProcess(lab: LabContext, id: string): void {
  const rec = lab.state.processes[id];
  if (rec && isOurs(lab, rec.pid)) process.kill(rec.pid, 'SIGCONT');
}

export async function stopProcess(lab: LabContext, id: string, how: 'kill' | 'term', graceMs = 20_000): Promise<void> {
  const rec = lab.state.processes[id];
  if (!rec) return;
  if (isOurs(lab, rec.pid)) {
    process.kill(rec.pid, how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    const deadline = Date.now() + (how === 'kill' ? 5000 : graceMs);
    while (isOurs(lab, rec.pid) && Date.now() < deadline) await sleep(50);
    if (isOurs(lab, rec.pid)) {
      process.kill(rec.pid, 'SIGKILL');
      while (isOurs(lab, rec.pid)) await sleep(50);
    }
    // A killed process loses its command line before its last threads let go of its sockets: wait until it is gone.
    const gone = Date.now() + 5000;
    while (stillHolding(rec.pid) && Date.now() < gone) await sleep(20);
  }
  delete lab.state.processes[id];
  lab.save();
}
