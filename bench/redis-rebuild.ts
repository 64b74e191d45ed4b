/**
 * The Redis rebuild against its peer, in one run on one lab, from the same
 * empty Redis (FLUSHALL on the primary) and the same MariaDB rows:
 *   gameday   `gameday warmup redis rebuild` (the CLI, end to end: parts,
 *             journal, one merge script per user over raw pipelined RESP)
 *   the peer  one SQL query that formats RESP (ZADD, HSET with the JSON
 *             payload, SET of each unread counter) piped into `redis-cli --pipe`
 * Each is timed `rounds` times, alternating; the ratio is peer / gameday on
 * the medians. After gameday's runs, `warmup redis verify --all` must find
 * zero mismatches; a last round rebuilds while the app takes writes, then
 * verifies again.
 *
 * Usage: node --import tsx bench/redis-rebuild.ts [users, default 25000] [rounds, default 3]
 * (25000 users x 40 = 1 M notifications). A lab of its own on 127.35.x.y, taken down at the end.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { labUp } from '../lab/up.js';
import { labDown } from '../lab/down.js';
import { mariadbPaths } from '../lab/configs/mariadb.js';
import { withRedis } from '../drivers/redis/readiness.js';
import { startLoadLoop } from '../chaos/load/loop.js';

const users = Number(process.argv[2] ?? 25_000);
const rounds = Number(process.argv[3] ?? 3);
const GAMEDAY = fileURLToPath(new URL('../bin/gameday.js', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'gameday-bench-rebuild-'));
const dir = join(root, 'lab');
const env = { GAMEDAY_LOG_LEVEL: 'warn', GAMEDAY_STATE_DIR: join(root, 'state'), GAMEDAY_LAB_DIR: dir };
const lab = await labUp({ dir, octet: 35, seed: { users, notificationsPerUser: 40, readPercent: 70 } });
const redis = lab.redisEndpoint(lab.hostsOf('redis').find((h) => h.role === 'primary')!);
const db = lab.host('db-1');

/** Every row as RESP; each line ends in \r so that the client's newline completes the CRLF. */
const PEER_SQL = `
SELECT CONCAT(
  '*4\\r\\n$4\\r\\nZADD\\r\\n$', LENGTH(k_ids), '\\r\\n', k_ids, '\\r\\n$', LENGTH(score), '\\r\\n', score, '\\r\\n$', LENGTH(id), '\\r\\n', id, '\\r\\n',
  '*4\\r\\n$4\\r\\nHSET\\r\\n$', LENGTH(k_data), '\\r\\n', k_data, '\\r\\n$', LENGTH(id), '\\r\\n', id, '\\r\\n$', LENGTH(payload), '\\r\\n', payload, '\\r')
FROM (
  SELECT id, CONCAT('notif:{', user_id, '}:ids') AS k_ids, CONCAT('notif:{', user_id, '}:data') AS k_data,
         CAST(ROUND(UNIX_TIMESTAMP(created_at) * 1000) AS CHAR) AS score,
         JSON_OBJECT('id', id, 'title', title, 'body', body,
                     'createdAt', CONCAT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(FLOOR(MICROSECOND(created_at) / 1000), 3, '0'), 'Z'),
                     'readAt', IF(read_at IS NULL, NULL, CONCAT(DATE_FORMAT(read_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(FLOOR(MICROSECOND(read_at) / 1000), 3, '0'), 'Z'))) AS payload
  FROM notifications.notifications
) rows_as_resp
UNION ALL
SELECT CONCAT('*3\\r\\n$3\\r\\nSET\\r\\n$', LENGTH(k), '\\r\\n', k, '\\r\\n$', LENGTH(n), '\\r\\n', n, '\\r')
FROM (SELECT CONCAT('notif:{', user_id, '}:unread') AS k, CAST(COUNT(*) AS CHAR) AS n FROM notifications.notifications WHERE read_at IS NULL GROUP BY user_id) counters`;

async function flush(): Promise<void> {
  await withRedis(redis, (r) => r.flushall());
}

async function peer(): Promise<number> {
  await flush();
  const t0 = Date.now();
  const sql = execa('mariadb', ['--no-defaults', '-N', '-B', '--raw', '-uroot', '-S', mariadbPaths(lab, db).socket, '-e', PEER_SQL], {
    env: { MYSQL_PWD: lab.state.secrets.dbRootPassword ?? '' },
    buffer: false,
  });
  const pipe = execa('redis-cli', ['-h', redis.host, '-p', String(redis.port), '--no-auth-warning', '-a', redis.password ?? '', '--pipe'], { input: sql.stdout! });
  const [, out] = await Promise.all([sql, pipe]);
  if (!/errors: 0/.test(out.stdout)) throw new Error(`the peer's pipe reported errors: ${out.stdout}`);
  return Date.now() - t0;
}

async function ours(): Promise<number> {
  await flush();
  const t0 = Date.now();
  const run = await execa(process.execPath, [GAMEDAY, 'warmup', 'redis', 'rebuild', '--verify', 'off', '--json'], { reject: false, env });
  if (run.exitCode !== 0) throw new Error(`rebuild failed: ${run.stderr}`);
  return Date.now() - t0;
}

async function verifyAll(): Promise<string> {
  const v = await execa(process.execPath, [GAMEDAY, 'warmup', 'redis', 'verify', '--all'], { reject: false, env });
  return `${v.exitCode === 0 ? 'zero mismatches' : 'MISMATCHES'}: ${v.stdout.split('\n')[0]}`;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  const counted = await execa('mariadb', ['--no-defaults', '-N', '-B', '-uroot', '-S', mariadbPaths(lab, db).socket, '-e', 'SELECT COUNT(*) FROM notifications.notifications'], { env: { MYSQL_PWD: lab.state.secrets.dbRootPassword ?? '' } });
  const notifications = Number(counted.stdout.trim());
  const peerMs: number[] = [];
  const ourMs: number[] = [];
  for (let i = 0; i < rounds; i++) {
    peerMs.push(await peer());
    ourMs.push(await ours());
    process.stderr.write(`round ${i + 1}: peer ${peerMs[i]} ms, gameday ${ourMs[i]} ms\n`);
  }
  const verified = await verifyAll();

  // With writers: the app creates and marks read through both proxies while the rebuild runs.
  const load = startLoadLoop({ frontends: lab.hostsOf('proxy').map((p) => ({ address: p.address, port: p.services.http })), users, ratePerS: 80, createPercent: 30, markReadPercent: 30 });
  let underLoadMs = 0;
  try {
    await new Promise((r) => setTimeout(r, 1000));
    underLoadMs = await ours();
    await new Promise((r) => setTimeout(r, 1000));
  } finally {
    await load.stop();
  }
  await new Promise((r) => setTimeout(r, 2000)); // the app's repair queue drains
  const verifiedUnderLoad = await verifyAll();

  const rate = (ms: number) => `${Math.round(notifications / (ms / 1000)).toLocaleString('en')} notifications/s`;
  console.log(`Redis rebuild of ${notifications.toLocaleString('en')} notifications (${users} users), median of ${rounds}`);
  console.log(`  peer (SQL -> RESP | redis-cli --pipe)  ${median(peerMs)} ms  ${rate(median(peerMs))}   runs ${peerMs.join(', ')}`);
  console.log(`  gameday warmup redis rebuild           ${median(ourMs)} ms  ${rate(median(ourMs))}   runs ${ourMs.join(', ')}`);
  console.log(`  ratio (peer / gameday): ${(median(peerMs) / median(ourMs)).toFixed(2)}x`);
  console.log(`  verify after gameday's rebuild: ${verified}`);
  console.log(`  rebuild with the app writing (80 req/s): ${underLoadMs} ms; verify: ${verifiedUnderLoad}`);
} finally {
  await labDown(lab);
}
