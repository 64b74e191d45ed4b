import type { Command } from 'commander';

export function registerDemo(lab: Command): void {
  void lab;
}
