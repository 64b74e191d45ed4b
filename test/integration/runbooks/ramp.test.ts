import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getWeight, setServerState, setWeight, showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { startLoadLoop } from '../../../chaos/load/loop.js';
import { cli, sharedLab, waitFor } from '../helpers.js';

/**
 * `gameday ramp` on the shared lab, with app-2 as the server ramped. Every
 * test gives app-2 back as it found it: running, ready, full weight, UP.
 */
describe('gameday ramp', () => {
  const lab = sharedLab();
  const stateDir = mkdtempSync(join(tmpdir(), 'gameday-ramp-'));
  const env = { GAMEDAY_LAB_DIR: lab.dir, GAMEDAY_STATE_DIR: stateDir };
  const sockets = lab.hostsOf('proxy').map((p) => haproxyPaths(lab, p).socket);
  const frontends = lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http }));
  const weights = () => Promise.all(sockets.map((s) => getWeight(s, 'web', 'app-2').then((w) => w.current)));
  const states = () => Promise.all(sockets.map(async (s) => (await showServers(s)).find((v) => v.backend === 'web' && v.server === 'app-2')!.status));
  const appPid = () => lab.state.processes['app-2/app'].pid;
  const giveBack = async () => {
    process.kill(appPid(), 'SIGCONT');
    for (const s of sockets) {
      await setWeight(s, 'web', 'app-2', '100%');
      await setServerState(s, 'web', 'app-2', 'ready');
    }
    await waitFor('app-2 UP on both proxies', async () => (await states()).every((st) => st === 'UP'), 20_000);
  };
  const notes = (runId: string) =>
    readFileSync(join(stateDir, 'runs', runId, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'note' && e.data?.message).map((e) => e.data.message as string);

  it('raises the weight step by step under load while the gates hold, and says each change in the journal', async () => {
    for (const s of sockets) await setWeight(s, 'web', 'app-2', '0%');
    const load = startLoadLoop({ frontends, users: 500, ratePerS: 60, createPercent: 10, markReadPercent: 10 });
    try {
      const run = await cli(['ramp', 'app-2', '--steps', '50,100', '--hold', '2s', '--json'], env);
      const r = JSON.parse(run.stdout);
      expect(run.exitCode, notes(r.runId).join('\n')).toBe(0); // the gate verdicts say why
      expect(r.state).toBe('succeeded');
      expect(await weights()).toEqual([100, 100]);
      const said = notes(r.runId);
      expect(said).toEqual(expect.arrayContaining(['app-2 at 50% of its weight', 'app-2 at 100% of its weight', 'app-2 back at full weight']));
      // 2 s at 60 requests/s is far from the 1024 answers HAProxy averages its response time over: the pass says so.
      expect(said.filter((n) => /^held at 50% without judging everything: .*response time not judged \(\d+ answers in the hold/.test(n)), said.join('\n')).not.toEqual([]);
    } finally {
      await load.stop();
      await giveBack();
    }
  }, 60_000);

  it('steps back down when a gate fails (app-2 stopped: it answers nothing), tries again, then takes it out; resume never raises it', async () => {
    const load = startLoadLoop({ frontends, users: 500, ratePerS: 40, createPercent: 10, markReadPercent: 10 });
    try {
      process.kill(appPid(), 'SIGSTOP'); // a server that hangs, as an overloaded one does
      const run = await cli(['ramp', 'app-2', '--steps', '25,100', '--hold', '3s', '--retries', '1', '--json'], env);
      expect(run.exitCode, run.stderr).toBe(1);
      const r = JSON.parse(run.stdout);
      expect(r.state).toBe('failed');
      expect(r.degraded.join(' ')).toMatch(/app-2 is out \(maint\): ramp gates failed at 25%/);
      const said = notes(r.runId);
      expect(said.filter((m) => m.startsWith('gate failed at 25%'))).toHaveLength(2);
      expect(said.filter((m) => m === 'app-2 at 0% of its weight')).toHaveLength(2); // stepped back down after each failure
      expect(said).not.toContain('app-2 at 100% of its weight');
      expect(await states()).toEqual(['MAINT', 'MAINT']);

      const resume = await cli(['runbook', 'resume', r.runId, '--json'], env);
      expect(resume.exitCode).toBe(1);
      expect(resume.stderr + resume.stdout).toContain('RAMP_GATE_FAILED_BEFORE');
      expect(await weights()).toEqual([0, 0]);
      expect(await states()).toEqual(['MAINT', 'MAINT']);
    } finally {
      await load.stop();
      await giveBack();
    }
  }, 90_000);

  it('refuses bad input naming the flag, before touching any weight', async () => {
    for (const [args, flag] of [[['ramp', 'app-2', '--steps', '50'], '--steps'], [['ramp', 'app-2', '--hold', 'soon'], '--hold'], [['ramp', 'nosuch'], 'nosuch'], [['ramp', 'sentinel-1'], '--host']] as const) {
      const run = await cli([...args], env);
      expect(run.exitCode, args.join(' ')).toBe(2);
      expect(run.stderr).toContain(flag);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    expect(await weights()).toEqual([100, 100]);
  });
});
