import { execa } from 'execa';
import { describe, expect, it } from 'vitest';

// A command whose work is done must end even if a client it used left a socket open
// (a game day once held CI for 90 minutes that way).
const script = (exitCode: number) => `
  import { createServer, connect } from 'node:net';
  import { exitWhenDone } from './engine/signals.js';
  const server = createServer(() => {}).listen(0, '127.0.0.1', () => {
    connect(server.address().port, '127.0.0.1'); // never closed: keeps the event loop alive
    process.exitCode = ${exitCode};
    exitWhenDone(500);
  });
`;

describe('exitWhenDone', () => {
  it('ends a finished command that left a socket open, with the exit code it chose, and names the handle', async () => {
    const started = Date.now();
    const run = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(1)], { reject: false, timeout: 20_000 });
    expect(run.timedOut).toBe(false);
    expect(run.exitCode).toBe(1);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(run.stderr).toMatch(/exiting with handles still open \(.*Socket to 127\.0\.0\.1:\d+/);
  });

  it('says nothing when the command ends on its own', async () => {
    const run = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', `import { exitWhenDone } from './engine/signals.js'; exitWhenDone(500);`], { reject: false, timeout: 20_000 });
    expect(run.exitCode).toBe(0);
    expect(run.stderr).toBe('');
  });
});
