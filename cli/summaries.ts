/** One line per top-level command: the help lists them without loading any command (cli/commands.ts). */
export const SUMMARIES = {
  placement: 'Check how the inventory survives the loss of a host, rack or zone',
  lab: 'The embedded lab: real MariaDB, Redis, Sentinel, HAProxy and the reference app, each host in a network namespace of its own',
  inventory: 'Write inventory files from other sources',
  runbook: 'Runbooks: ordered steps with a journal, resume after a crash, locks, approvals and a dry-run plan',
  warmup: "Bring a recovered host back to its peers' warmth (buffer pool), and its data to what the truth says (Redis from MariaDB)",
  chaos: 'Game days: cut power to a host, rack or zone under load, check failover against invariants, always undo, report with a timeline',
  agent: 'Agents a host runs beside its services: the db health agent HAProxy checks (systemd units in deploy/systemd/)',
  guard: 'Boot guards a host runs before a service starts (systemd ExecStartPre): a power-on never brings back a second primary',
  ramp: "Raise a server's weight step by step on every proxy (or an ALB target group's, or a Route 53 weighted record's), each step held behind gates (errors, response time, queue and lag against its peers; target health, health checks, alarms); a failing gate steps it back down, then takes it out",
} as const;

export type TopCommandName = keyof typeof SUMMARIES;

export function summaryOf(name: TopCommandName): string {
  return SUMMARIES[name];
}
