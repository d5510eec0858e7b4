import { Option, type Command } from 'commander';
import { parseDuration } from '../pg/advisory-lock.js';
import { DEFAULT_REGISTRY_SCHEMA } from '../registry/types.js';
import { CliError } from './errors.js';

export interface ConnectionFlags {
  databaseUrl?: string;
  registrySchema: string;
}

/** --database-url and --registry-schema, on every command that talks to a database. */
export function withConnection(cmd: Command): Command {
  return cmd
    .option('--database-url <url>', 'PostgreSQL URL (default: DATABASE_URL, then PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE)')
    .option('--registry-schema <schema>', 'schema of the tenant registry', DEFAULT_REGISTRY_SCHEMA);
}

export function lockTimeoutOption(defaultValue: string): Option {
  return new Option('--lock-timeout <duration>', 'how long to wait for a lock before giving up (e.g. 500ms, 15s, 2m)').default(defaultValue);
}

export function durationMs(text: string, flag: string): number {
  try {
    return parseDuration(text);
  } catch (e) {
    throw new CliError(`${flag}: ${(e as Error).message}`);
  }
}

export function positiveInteger(text: string | undefined, what: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new CliError(`${what} must be a positive whole number, got "${text}"`);
  return Number(text);
}
