// One connection per command for the registry commands (tenant, apikey, audit), with their errors translated.
import { connect, type Sql } from '../../pg/connect.js';
import { TenantError } from '../../tenant/common.js';
import { CliError } from '../errors.js';
import type { ConnectionFlags } from '../options.js';

/** Open one connection, run `work`, always close; library errors become CliErrors (exit 1). */
export async function withSql<T>(flags: ConnectionFlags, name: string, work: (sql: Sql) => Promise<T>): Promise<T> {
  const sql = connect({ databaseUrl: flags.databaseUrl, max: 1, applicationName: `tenantctl ${name}` });
  try {
    return await work(sql);
  } catch (e) {
    if (e instanceof TenantError) throw new CliError(e.message);
    throw e;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

/** `work` in one transaction. */
export function inTransaction<T>(flags: ConnectionFlags, name: string, work: (tx: Sql) => Promise<T>): Promise<T> {
  return withSql(flags, name, (sql) => sql.begin((tx) => work(tx as unknown as Sql)) as Promise<T>);
}

export function checkFormat(format: string, allowed: readonly string[] = ['text', 'json']): void {
  if (!allowed.includes(format)) throw new CliError(`--format must be ${allowed.join(' or ')}, got "${format}"`);
}

/** Plain text columns, padded to the widest cell. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header), ...rows.map(line)];
}
