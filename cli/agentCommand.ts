import type { Command } from 'commander';
import { GamedayError } from '../core/errors.js';
import { parseDuration } from '../core/duration.js';
import { startDbHealthAgent } from '../drivers/mysql/healthAgent.js';
import { addressFlag } from './guardCommand.js';
import { action } from './run.js';

/*
 * Agents: long-running services a host runs beside its own (systemd units in
 * deploy/systemd/). The lab runs the same commands on its hosts.
 */

interface DbHealthFlags {
  listen: string;
  socket: string;
  user: string;
  maxLag: string;
}

async function dbHealth(flags: DbHealthFlags): Promise<number> {
  const { host, port } = addressFlag('--listen', flags.listen, 9200);
  const maxLagMs = parseDuration(flags.maxLag);
  if (maxLagMs === undefined || maxLagMs <= 0 || maxLagMs > 3_600_000) throw new GamedayError('BAD_FLAG', `"${flags.maxLag}" is not a duration between 1ms and 1h`, '--max-lag', 'e.g. --max-lag 3s');
  const server = await startDbHealthAgent({ address: host, port, socketPath: flags.socket, user: flags.user, password: process.env.GAMEDAY_DB_HEALTH_PASSWORD || undefined, maxLagMs }).catch((err: NodeJS.ErrnoException) => {
    throw new GamedayError('AGENT_LISTEN', `cannot listen on ${flags.listen} (${err.code ?? err.message})`, '--listen', 'give an address of this host and a free port, e.g. --listen 10.0.1.11:9200');
  });
  process.stderr.write(`db-health: answering HAProxy's checks on ${flags.listen} (/primary, /replica) for ${flags.socket}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return 0;
}

export function registerAgent(program: Command): void {
  const agent = program.command('agent').description('Agents a host runs beside its services (systemd units in deploy/systemd/)');
  agent
    .command('db-health')
    .description("The db host's health agent for HAProxy's checks: /primary answers 200 on the writable primary, /replica on a replica fit to serve reads (replicating, its heartbeat within --max-lag); 503 otherwise")
    .requiredOption('--listen <host:port>', 'where HAProxy checks it, e.g. 10.0.1.11:9200')
    .requiredOption('--socket <path>', "the local MariaDB's socket, e.g. /run/mysqld/mysqld.sock")
    .option('--user <name>', 'the MariaDB login (password from GAMEDAY_DB_HEALTH_PASSWORD; needs REPLICATION CLIENT and SELECT on gameday.heartbeat)', 'root')
    .option('--max-lag <duration>', 'a replica further behind leaves the read pool', '3s')
    .action(action(dbHealth));
}
