/** SIGHUP (the terminal or ssh session closed) stops a run as SIGTERM does, with a stop record, never at once. */
const STOP_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * SIGINT/SIGTERM/SIGHUP for a process that runs a runbook: the first one aborts the
 * returned signal (the run stops after its current step, resumable), a second
 * one exits at once with `exitCode`. `dispose` removes the handlers.
 */
export function stopOnSignals(opts: { exitCode?: number; write?: (line: string) => void } = {}): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const write = opts.write ?? ((line: string) => void safeWrite(process.stderr, `${line}\n`));
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      write(`${sig} again: exiting now; the journal shows where the run stopped`);
      process.exit(opts.exitCode ?? 130);
    }
    write(`${sig} received: stopping after the current step (${sig} again to exit at once)`);
    controller.abort(`${sig} received`);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, handler);
  return {
    signal: controller.signal,
    dispose: () => {
      for (const sig of STOP_SIGNALS) process.off(sig, handler);
    },
  };
}

/**
 * Writes to stdout or stderr without ever throwing: a reader that went away
 * (`| head`, a closed terminal) must not crash a run in the middle of a step.
 */
export function safeWrite(stream: NodeJS.WriteStream, text: string): boolean {
  try {
    return stream.write(text);
  } catch {
    return false;
  }
}

/** Output errors (EPIPE once the reader is gone) are dropped rather than thrown as uncaught errors. */
export function ignoreOutputErrors(): void {
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
}

/**
 * Once the command has finished, a handle left open (a client still reconnecting to a
 * powered-off host, a request that never answers) must not keep the process alive: a
 * game day that hung there once held CI for 90 minutes. If the process has not exited
 * on its own within `graceMs`, the handles still open are named on stderr and it exits
 * with the code the command chose.
 */
export function exitWhenDone(graceMs = 3000): void {
  setTimeout(() => {
    const open = (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles()
      .map((h) => describeHandle(h))
      .filter((name) => !['WriteStream', 'ReadStream'].includes(name));
    safeWrite(process.stderr, `gameday: the command had finished ${graceMs / 1000} s ago; exiting with handles still open (${open.join(', ') || 'none'})\n`);
    process.exit();
  }, graceMs).unref();
}

function describeHandle(h: object): string {
  const name = h.constructor?.name ?? typeof h;
  const socket = h as { remoteAddress?: string; remotePort?: number; connecting?: boolean; _host?: string };
  if (socket.remoteAddress) return `${name} to ${socket.remoteAddress}:${socket.remotePort}`;
  return socket.connecting ? `${name} connecting to ${socket._host ?? '?'}` : name;
}
