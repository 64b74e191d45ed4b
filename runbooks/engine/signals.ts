/**
 * SIGINT/SIGTERM for a process that runs a runbook: the first one aborts the
 * returned signal (the run stops after its current step, resumable), a second
 * one exits at once with `exitCode`. `dispose` removes the handlers.
 */
export function stopOnSignals(opts: { exitCode?: number; write?: (line: string) => void } = {}): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const write = opts.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const handler = (sig: NodeJS.Signals) => {
    if (controller.signal.aborted) {
      write(`${sig} again: exiting now; the journal shows where the run stopped`);
      process.exit(opts.exitCode ?? 130);
    }
    write(`${sig} received: stopping after the current step (${sig} again to exit at once)`);
    controller.abort(`${sig} received`);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
