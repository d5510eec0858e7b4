import type { Command } from 'commander';

export function registerMigrate(program: Command): void {
  program.command('migrate').description('apply, roll back and inspect the tenant-registry migrations');
}
