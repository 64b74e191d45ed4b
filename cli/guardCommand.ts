import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { GamedayError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { applyDecision, bootDecision } from '../drivers/redis/bootGuard.js';
import { action } from './run.js';

/*
 * Boot guards: commands a host runs before a service starts (systemd
 * ExecStartPre, deploy/systemd/), so a power-on never brings back a second
 * primary. The lab's power-on runs the same commands (docs/boot-guards.md).
 */

interface RedisBootFlags {
  config: string;
  address: string;
  sentinels: string;
  masterName: string;
  wait: string;
}

export function addressFlag(flag: string, value: string, examplePort = flag === '--address' ? 6379 : 26379): { host: string; port: number } {
  const m = /^([^\s:]+):(\d{1,5})$/.exec(value.trim());
  const port = m ? Number(m[2]) : 0;
  if (!m || port < 1 || port > 65535) throw new GamedayError('BAD_FLAG', `"${value}" is not host:port`, flag, `e.g. ${flag} 10.0.1.5:${examplePort}`);
  return { host: m[1], port };
}

async function redisBoot(flags: RedisBootFlags): Promise<number> {
  const self = addressFlag('--address', flags.address);
  const sentinelList = flags.sentinels.split(',').map((s) => s.trim()).filter(Boolean);
  if (sentinelList.length === 0) throw new GamedayError('BAD_FLAG', 'names no Sentinel', '--sentinels', 'e.g. --sentinels 10.0.1.7:26379,10.0.2.7:26379,10.0.3.7:26379');
  const password = process.env.GAMEDAY_SENTINEL_PASSWORD || undefined;
  const sentinels = sentinelList.map((s) => ({ ...addressFlag('--sentinels', s), ...(password ? { password } : {}) }));
  const waitMs = parseDuration(flags.wait);
  if (waitMs === undefined || waitMs > 3_600_000) throw new GamedayError('BAD_FLAG', `"${flags.wait}" is not a duration of at most 1h`, '--wait', 'e.g. --wait 30s');
  let conf: string;
  try {
    conf = readFileSync(flags.config, 'utf8');
  } catch (err) {
    throw new GamedayError('BAD_FLAG', `cannot read the Redis config (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, flags.config, 'give the config file redis-server starts from, e.g. --config /etc/redis/redis.conf');
  }
  const d = await bootDecision(conf, self, sentinels, flags.masterName, waitMs);
  if (d.start === 'refused') {
    process.stderr.write(`redis-boot: REFUSED: ${d.why}; redis-server is not started (systemd retries); to start it as a master on purpose, add no guard for this one start\n`);
    return 1;
  }
  const changed = applyDecision(flags.config, conf, d);
  const role = d.start === 'master' ? 'as the primary' : `as a replica of ${d.of.host}:${d.of.port}`;
  process.stdout.write(`redis-boot: starts ${role} (${d.why}); ${changed ? `${flags.config} rewritten` : 'config unchanged'}\n`);
  return 0;
}

export function registerGuard(program: Command): void {
  const guard = program.command('guard').description('Boot guards a host runs before a service starts (systemd ExecStartPre): never a second primary after a power-on');
  guard
    .command('redis-boot')
    .description('Before redis-server starts: ask the Sentinels which primary a majority names and write replicaof into its config; a master nobody confirms is refused (exit 1)')
    .requiredOption('--config <file>', 'the config redis-server starts from (rewritten in place, owner and mode kept)')
    .requiredOption('--address <host:port>', 'this server as its Sentinels know it')
    .requiredOption('--sentinels <list>', 'the Sentinels, host:port,host:port,… (password from GAMEDAY_SENTINEL_PASSWORD)')
    .requiredOption('--master-name <name>', 'the name the Sentinels monitor it under')
    .option('--wait <duration>', 'how long to wait for a majority when the config would start a master', '30s')
    .action(action(redisBoot));
}
