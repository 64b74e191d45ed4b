/**
 * The Redis rebuild against its peer, in one run on one lab, from the same
 * empty Redis (FLUSHALL on the primary) and the same MariaDB rows:
 *   gameday   `gameday warmup redis rebuild` (the CLI, end to end: parts,
 *             journal, one merge script per user over raw pipelined RESP)
 *   the peer  `sh -c 'mariadb … | redis-cli --pipe'`, one shell pipeline: one
 *             SQL query, grouped by user_id in order, that formats each user's
 *             commands together as RESP (one ZADD of all their ids, one HSET of
 *             all their JSON payloads, one SET of their unread counter), as
 *             gameday's script writes them per user
 * Each is timed `rounds` times, taking turns at going first (round 1 the peer
 * first, round 2 gameday first, ...); the ratio is peer / gameday on the
 * medians. The peer's pipe must report "errors: 0" and one reply per command;
 * after every timed run of either, `warmup redis verify --all` must find zero
 * mismatches; a last round rebuilds while the app takes writes, then verifies
 * again. Passwords go through the environment (MYSQL_PWD, REDISCLI_AUTH),
 * never on a command line.
 *
 * Usage: node --import tsx bench/redis-rebuild.ts [users, default 25000] [rounds, default 3]
 * (25000 users x 40 = 1 M notifications). A lab of its own on 198.18.35.x, taken down at the end.
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

/**
 * Each user's commands together, users in order: ZADD of every id with its
 * score, HSET of every id with its payload (the JSON the app stores), SET of
 * the unread counter. Lengths are byte lengths (LENGTH); the row ends in \r
 * so that the client's newline completes the CRLF.
 */
const PEER_SQL = `
SET SESSION group_concat_max_len = 67108864;
SELECT CONCAT(
  '*', 2 + 2 * n, '\\r\\n$4\\r\\nZADD\\r\\n$', LENGTH(CONCAT(k, 'ids')), '\\r\\n', k, 'ids\\r\\n', zadd_args,
  '*', 2 + 2 * n, '\\r\\n$4\\r\\nHSET\\r\\n$', LENGTH(CONCAT(k, 'data')), '\\r\\n', k, 'data\\r\\n', hset_args,
  '*3\\r\\n$3\\r\\nSET\\r\\n$', LENGTH(CONCAT(k, 'unread')), '\\r\\n', k, 'unread\\r\\n$', LENGTH(unread), '\\r\\n', unread, '\\r')
FROM (
  SELECT user_id, CONCAT('notif:{', user_id, '}:') AS k, COUNT(*) AS n, CAST(SUM(read_at IS NULL) AS CHAR) AS unread,
         GROUP_CONCAT('$', LENGTH(score), '\\r\\n', score, '\\r\\n$', LENGTH(id), '\\r\\n', id, '\\r\\n' ORDER BY created_at, id SEPARATOR '') AS zadd_args,
         GROUP_CONCAT('$', LENGTH(id), '\\r\\n', id, '\\r\\n$', LENGTH(payload), '\\r\\n', payload, '\\r\\n' ORDER BY created_at, id SEPARATOR '') AS hset_args
  FROM (
    SELECT user_id, id, created_at, read_at, CAST(ROUND(UNIX_TIMESTAMP(created_at) * 1000) AS CHAR) AS score,
           JSON_COMPACT(JSON_OBJECT('id', id, 'title', title, 'body', body,
                       'createdAt', CONCAT(DATE_FORMAT(created_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(FLOOR(MICROSECOND(created_at) / 1000), 3, '0'), 'Z'),
                       'readAt', IF(read_at IS NULL, NULL, CONCAT(DATE_FORMAT(read_at, '%Y-%m-%dT%H:%i:%s.'), LPAD(FLOOR(MICROSECOND(read_at) / 1000), 3, '0'), 'Z')))) AS payload
    FROM notifications.notifications
  ) notification
  GROUP BY user_id
) per_user
ORDER BY user_id`;

/** One shell pipeline, fed the SQL on its stdin; the socket, host and port are its arguments, the passwords in its environment. */
const PEER_PIPELINE = 'mariadb --no-defaults -N -B --raw -uroot -S "$1" | redis-cli -h "$2" -p "$3" --no-auth-warning --pipe';
const dbEnv = { MYSQL_PWD: lab.state.secrets.dbRootPassword ?? '' };

async function flush(): Promise<void> {
  await withRedis(redis, (r) => r.flushall());
}

/** `usersWithRows`: the pipe must answer each of their 3 commands (sh reports only redis-cli's status: a failed query would send nothing). */
async function peer(usersWithRows: number): Promise<number> {
  await flush();
  const t0 = Date.now();
  const run = await execa('sh', ['-c', PEER_PIPELINE, 'sh', mariadbPaths(lab, db).socket, redis.host, String(redis.port)], {
    input: PEER_SQL,
    env: { ...dbEnv, REDISCLI_AUTH: redis.password ?? '' },
    reject: false,
  });
  const ms = Date.now() - t0;
  const out = `${run.stdout}\n${run.stderr}`;
  const replies = Number(/replies: (\d+)/.exec(out)?.[1] ?? -1);
  if (run.exitCode !== 0 || !/errors: 0,/.test(out) || replies !== 3 * usersWithRows || /^ERROR/m.test(run.stderr)) {
    throw new Error(`the peer's pipeline failed (exit ${run.exitCode}, ${replies} replies for ${3 * usersWithRows} commands): ${out}`);
  }
  return ms;
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
  const counted = await execa('mariadb', ['--no-defaults', '-N', '-B', '-uroot', '-S', mariadbPaths(lab, db).socket, '-e', 'SELECT COUNT(*), COUNT(DISTINCT user_id) FROM notifications.notifications'], { env: dbEnv });
  const [notifications, usersWithRows] = counted.stdout.trim().split('\t').map(Number);
  const peerMs: number[] = [];
  const ourMs: number[] = [];
  const verified: Record<'peer' | 'gameday', string[]> = { peer: [], gameday: [] };
  const runPeer = async () => {
    peerMs.push(await peer(usersWithRows));
    verified.peer.push(await verifyAll());
  };
  const runOurs = async () => {
    ourMs.push(await ours());
    verified.gameday.push(await verifyAll());
  };
  for (let i = 0; i < rounds; i++) {
    // Turns at going first: round 1 the peer, round 2 gameday, ...
    const order = i % 2 === 0 ? [runPeer, runOurs] : [runOurs, runPeer];
    for (const run of order) await run();
    process.stderr.write(`round ${i + 1} (${i % 2 === 0 ? 'peer' : 'gameday'} first): peer ${peerMs[i]} ms, gameday ${ourMs[i]} ms\n`);
  }

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
  console.log(`  peer (sh: mariadb | redis-cli --pipe)  ${median(peerMs)} ms  ${rate(median(peerMs))}   runs ${peerMs.join(', ')}`);
  console.log(`  gameday warmup redis rebuild           ${median(ourMs)} ms  ${rate(median(ourMs))}   runs ${ourMs.join(', ')}`);
  console.log(`  ratio (peer / gameday): ${(median(peerMs) / median(ourMs)).toFixed(2)}x`);
  const all = (vs: string[]) => (vs.every((v) => v.startsWith('zero')) ? `zero mismatches after all ${vs.length} (last: ${vs.at(-1)})` : vs.join('; '));
  console.log(`  verify after each of the peer's rebuilds: ${all(verified.peer)}`);
  console.log(`  verify after each of gameday's rebuilds: ${all(verified.gameday)}`);
  console.log(`  rebuild with the app writing (80 req/s): ${underLoadMs} ms; verify: ${verifiedUnderLoad}`);
  if (![...verified.peer, ...verified.gameday, verifiedUnderLoad].every((v) => v.startsWith('zero'))) process.exitCode = 1;
} finally {
  await labDown(lab);
}
