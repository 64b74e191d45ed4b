import { createInterface } from 'node:readline/promises';

export interface ApprovalRequest {
  runId: string;
  stepId: string;
  prompt: string;
}

/** Asks a person; resolves granted or denied, rejects when the run is aborted meanwhile. */
export type Approver = (request: ApprovalRequest, signal: AbortSignal) => Promise<'granted' | 'denied'>;

/**
 * A y/N prompt on the terminal (prompt on stderr, stdout stays for results),
 * or undefined when stdin is not a terminal: then only --yes approves.
 */
export function terminalApprover(input: NodeJS.ReadStream = process.stdin, output: NodeJS.WriteStream = process.stderr): Approver | undefined {
  if (!input.isTTY) return undefined;
  return async (request, signal) => {
    const rl = createInterface({ input, output, terminal: true });
    // Ctrl-C inside the prompt stops the run like Ctrl-C anywhere else.
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    try {
      const answer = await rl.question(`\n${request.prompt}\nApprove step ${request.stepId} of run ${request.runId}? [y/N] `, { signal });
      return /^(y|yes)$/i.test(answer.trim()) ? 'granted' : 'denied';
    } finally {
      rl.close();
    }
  };
}
