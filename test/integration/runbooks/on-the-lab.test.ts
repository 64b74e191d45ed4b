import { afterAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { execa } from 'execa';
import { showServers } from '../../../drivers/haproxy/runtime.js';
import { haproxyPaths } from '../../../lab/configs/haproxy.js';
import { GAMEDAY, rootQuery, sharedLab, waitFor } from '../helpers.js';

const stateDir = mkdtempSync(join(tmpdir(), 'gameday-runs-'));
const env = () => ({ GAMEDAY_LAB_DIR: inject('labDir'), GAMEDAY_STATE_DIR: stateDir, GAMEDAY_LOG_LEVEL: 'warn' });
const gameday = (args: string[]) => execa(process.execPath, [GAMEDAY, ...args], { reject: false, env: env() });

interface Event { stepId: string; event: string; data?: any; time: string }
function journal(runId: string): Event[] {
  const file = join(stateDir, 'runs', runId, 'journal.jsonl');
  return existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
}
const runIdIn = (text: string) => text.match(/\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z-[0-9a-f]{4}/)?.[0];

/** The newest run's id (run ids sort by time). */
async function latestRunId(): Promise<string | undefined> {
  const runs = join(stateDir, 'runs');
  return existsSync(runs) ? readdirSync(runs).sort().at(-1) : undefined;
}

describe('runbooks on the real lab', () => {
  const lab = sharedLab();
  const sockets = lab.hostsOf('proxy').map((p) => haproxyPaths(lab, p).socket);
  const serverState = async (backend: string, server: string) =>
    Promise.all(sockets.map(async (s) => (await showServers(s)).find((v) => v.backend === backend && v.server === server)));

  let receiver: Server | undefined;
  afterAll(() => receiver?.close());

  it('plan changes nothing: HAProxy state and hosts identical before and after', async () => {
    const before = { haproxy: await Promise.all(sockets.map(showServers)), pids: JSON.stringify(sharedLab().state.processes) };
    const r = await gameday(['runbook', 'plan', 'reboot-stale', '--max-uptime', '1s', '--all-steps']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('dry run: nothing was changed');
    expect(r.stdout).toContain('13 hosts checked: 13 up 1s or longer, 13 to reboot in 5 waves');
    expect(r.stdout).toMatch(/db-1: switch db's MariaDB primary away from db-1 if it is the primary then/);
    expect(r.stdout).toMatch(/reboot db-1[\s\S]*consequence: while db-1 is down: db 2\/3 \(primary db-1 lost: promote db-2 or db-3\)/);
    const after = { haproxy: await Promise.all(sockets.map(showServers)), pids: JSON.stringify(sharedLab().state.processes) };
    // Sessions come and go, and "* " only marks a health check in progress at that instant (every 250 ms on db_read).
    const strip = (views: Awaited<ReturnType<typeof showServers>>[]) => views.map((v) => v.map(({ currentSessions, ...rest }) => ({ ...rest, checkStatus: rest.checkStatus.replace(/^\* /, '') })));
    expect(strip(after.haproxy)).toEqual(strip(before.haproxy));
    expect(after.pids).toBe(before.pids);
    expect(existsSync(join(stateDir, 'runs'))).toBe(false);
  });

  it('rejects bad parameters and unknown hosts with one clear error', async () => {
    const bad = await gameday(['runbook', 'run', 'reboot-stale', '--max-uptime', 'soon']);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain('--max-uptime');
    expect(bad.stderr).toContain('not a duration: "soon"');
    const unknown = await gameday(['runbook', 'run', 'recover-host', '--host', 'db-9']);
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('"db-9" is not a host of inventory gameday-lab');
  });

  it('refuses to recover (fence) the writable primary, in plan and run, and changes nothing', async () => {
    const roles = await Promise.all(lab.hostsOf('db').map(async (h) => ({ name: h.name, ro: Number((await rootQuery(lab, h.name, 'SELECT @@read_only AS ro'))[0].ro), slave: (await rootQuery(lab, h.name, 'SHOW SLAVE STATUS')).length })));
    const primary = roles.find((r) => !r.ro && !r.slave)!.name;
    const before = await serverState('db_write', primary);
    for (const verb of ['plan', 'run']) {
      const r = await gameday(['runbook', verb, 'recover-host', '--host', primary]);
      expect(r.exitCode, r.stderr).toBe(2);
      expect(r.stderr).toContain('RECOVER_PRIMARY');
      expect(r.stderr).toContain('would stop every write');
    }
    expect((await serverState('db_write', primary)).map((v) => v?.status)).toEqual(before.map((v) => v?.status));
  });

  it('keeps a replica whose SQL thread stopped out of rotation until it caught up, and tells Slack', async () => {
    const messages: string[] = [];
    receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        messages.push(JSON.parse(body).text);
        res.end('ok');
      });
    });
    await new Promise<void>((r) => receiver!.listen(0, '127.0.0.1', r));
    const port = (receiver.address() as { port: number }).port;

    await rootQuery(lab, 'db-3', 'STOP SLAVE SQL_THREAD');
    const proxy = lab.host('proxy-1');
    const web = `http://${proxy.address}:${proxy.services.http}`;
    const writes = async (n: number) => {
      for (let i = 0; i < n; i++) await fetch(`${web}/users/${i + 1}/notifications`, { method: 'POST', body: JSON.stringify({ title: `while stopped ${i}`, body: 'b' }) });
    };
    await writes(20);
    const run = gameday(['runbook', 'run', 'recover-host', '--host', 'db-3', '--ramp', '50,100', '--ramp-hold', '1s', '--slack-webhook', `http://127.0.0.1:${port}/hook`]);
    try {
      // Fenced (MAINT) on both proxies while it lags, whatever its health check says.
      await waitFor('db-3 fenced', async () => (await serverState('db_read', 'db-3')).every((v) => v?.status === 'MAINT'), 15_000);
      await writes(20);
      await new Promise((r) => setTimeout(r, 4000));
      expect((await serverState('db_read', 'db-3')).map((v) => v?.status)).toEqual(['MAINT', 'MAINT']);
    } finally {
      await rootQuery(lab, 'db-3', 'START SLAVE SQL_THREAD');
    }
    const done = await run;
    expect(done.exitCode, done.stderr).toBe(0);
    const [row] = await rootQuery(lab, 'db-3', "SELECT COUNT(*) AS n FROM notifications.notifications WHERE title LIKE 'while stopped %'");
    expect(Number(row.n)).toBe(40);
    expect((await serverState('db_read', 'db-3')).map((v) => [v?.status, v?.weight])).toEqual([['UP', 100], ['UP', 100]]);
    const runId = runIdIn(done.stdout + done.stderr)!;
    const ready = journal(runId).filter((e) => e.stepId === 'db-3/ready' && e.event === 'note');
    expect(JSON.stringify(ready)).toContain('SQL=false');
    expect(messages[0]).toMatch(/started/i);
    expect(messages.at(-1)).toMatch(/finished|succeeded/i);
  });

  it('lets only one run hold a host: the second fails at once, or waits when asked', async () => {
    const before = await latestRunId();
    const first = gameday(['runbook', 'run', 'recover-host', '--host', 'app-3', '--ramp', '50,100', '--ramp-hold', '2s']);
    await waitFor('the first run to hold its lock', async () => {
      const id = await latestRunId();
      return id && id !== before && journal(id).some((e) => e.event === 'intent');
    });
    const second = await gameday(['runbook', 'run', 'recover-host', '--host', 'app-3']);
    expect(second.exitCode).toBe(2);
    expect(second.stderr).toContain('host:app-3');
    const waiting = await gameday(['runbook', 'run', 'recover-host', '--host', 'app-3', '--ramp', '100', '--ramp-hold', '1s', '--wait-lock', '2m']);
    const firstDone = await first;
    expect(firstDone.exitCode, firstDone.stderr).toBe(0);
    expect(waiting.exitCode, waiting.stderr).toBe(0);
  });

  it('survives kill -9 in the middle of a wave: resume finishes and no host reboots twice', async () => {
    // What is tested is the resume; the warm-up's gate (its own tests, warmup/mysql-warmup) once failed it in CI.
    const before = await latestRunId();
    const child = execa(process.execPath, [GAMEDAY, 'runbook', 'run', 'reboot-stale', '--max-uptime', '1s', '--hosts', 'app-1,db-2,sentinel-3', '--ramp-hold', '1s', '--ready-samples', '2', '--warmup', 'off'], { reject: false, env: env() });
    const runId = await waitFor('the run to start', async () => {
      const id = await latestRunId();
      return id && id !== before && journal(id).some((e) => e.event === 'note' && e.data?.type === 'started') ? id : undefined;
    });
    // Kill it while it waits for db-2 to come back and catch up (its reboot is done).
    const rebooted = waitFor('db-2 to be rebooted', async () => journal(runId).some((e) => e.stepId === 'wave-2/db-2/reboot' && e.event === 'succeeded'), 120_000);
    const endedFirst = child.then((r) => {
      throw new Error(`the run ended before db-2 was rebooted (exit ${r.exitCode}): ${String(r.stdout).slice(-1500)} ${String(r.stderr).slice(-1500)}`);
    });
    await Promise.race([rebooted, endedFirst]);
    endedFirst.catch(() => undefined); // the kill below ends it: that is expected now
    child.kill('SIGKILL');
    await child;
    expect(journal(runId).some((e) => e.stepId === 'run' && e.event === 'note' && e.data?.type === 'finished')).toBe(false);

    const resumed = await gameday(['runbook', 'resume', runId]);
    expect(resumed.exitCode, resumed.stderr).toBe(0);
    const events = journal(runId);
    const rebootIntents = events.filter((e) => e.stepId.endsWith('/reboot') && e.event === 'intent').map((e) => e.stepId);
    expect(rebootIntents.sort()).toEqual(['wave-1/app-1/reboot', 'wave-2/db-2/reboot', 'wave-3/sentinel-3/reboot']);
    expect(events.filter((e) => e.stepId.endsWith('/reboot') && e.event === 'succeeded')).toHaveLength(3);
  }, 240_000);
});
