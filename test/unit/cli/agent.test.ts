import { describe, expect, it } from 'vitest';
import { execa } from 'execa';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const GAMEDAY = fileURLToPath(new URL('../../../bin/gameday.js', import.meta.url));

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('gameday agent db-health (the unit a fleet installs; the lab runs it too)', () => {
  it('refuses a --listen that is not host:port, and a --max-lag that is no duration, naming the flag (exit 2)', async () => {
    const bad = await execa(process.execPath, [GAMEDAY, 'agent', 'db-health', '--listen', 'nope', '--socket', '/nonexistent.sock'], { reject: false });
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('"nope" is not host:port');
    const lag = await execa(process.execPath, [GAMEDAY, 'agent', 'db-health', '--listen', '127.0.0.1:9', '--socket', '/x.sock', '--max-lag', 'soon'], { reject: false });
    expect(lag.exitCode).toBe(2);
    expect(lag.stderr).toContain('--max-lag');
  });

  it('answers 503 to both pools when its MariaDB does not answer, and stops cleanly on SIGTERM', async () => {
    const port = await freePort();
    const agent = execa(process.execPath, [GAMEDAY, 'agent', 'db-health', '--listen', `127.0.0.1:${port}`, '--socket', '/nonexistent/mysqld.sock'], { reject: false });
    try {
      let answer: Response | undefined;
      for (let i = 0; i < 100 && !answer; i++) {
        answer = await fetch(`http://127.0.0.1:${port}/replica`).catch(() => undefined);
        if (!answer) await sleep(100);
      }
      expect(answer?.status).toBe(503);
      expect((await answer!.json()).reason).toMatch(/mariadb/);
      expect((await fetch(`http://127.0.0.1:${port}/primary`)).status).toBe(503);
    } finally {
      agent.kill('SIGTERM');
    }
    expect((await agent).exitCode).toBe(0);
  }, 20_000);
});
