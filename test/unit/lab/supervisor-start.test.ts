import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newLab } from '../../../lab/context.js';
import { isRunning, startProcess, stopProcess, waitReady, type ProcessSpec } from '../../../lab/supervisor.js';

describe('lab start-up tells a process that is starting from one that died', () => {
  it('waits while the child does not name the lab yet (before its exec), and names the log of one that died', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'gameday-start-')), 'lab');
    const lab = newLab(dir, 33);
    lab.save();
    const file = join(dir, 'follow-me');
    writeFileSync(file, '');
    // For 0.4 s its command line does not name the lab folder (as a child between fork and exec, whose parent's does not either).
    const slow: ProcessSpec = {
      id: 'h/slow', host: 'h', command: 'sh', args: ['-c', 'sleep 0.4; exec tail -f "$FOLLOW"'], env: { FOLLOW: file },
      logFile: join(dir, 'slow.log'), ready: async () => isRunning(lab, 'h/slow'),
    };
    try {
      await startProcess(lab, slow);
      await waitReady(lab, slow, 5000);
      expect(isRunning(lab, 'h/slow')).toBe(true);
      const dies: ProcessSpec = { ...slow, id: 'h/dies', args: ['-c', 'echo "cannot bind socket" >&2; exit 1'], logFile: join(dir, 'dies.log'), ready: async () => false };
      await startProcess(lab, dies);
      await expect(waitReady(lab, dies, 5000)).rejects.toThrow(/h\/dies exited during start-up: cannot bind socket/);
    } finally {
      await stopProcess(lab, 'h/slow', 'kill');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
