import type { Command } from 'commander';

export function registerLab(program: Command): void {
  program.command('lab').description('The embedded lab: real MariaDB, Redis, Sentinel, HAProxy and the reference app on loopback addresses');
}
