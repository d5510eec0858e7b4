// tenant usage: rows and bytes per governed table for one tenant, connections now, against its quotas.
import { qualified } from '../pg/quote.js';
import type { Executor } from '../registry/db.js';
import { getTenant, tenantLogins, type TenantRow } from './common.js';
import { quotaDrift, readQuota, type Quota } from './quota.js';
import { describeScope, requireBypass, tenantPredicate, tenantScope } from './scope.js';

export interface TableUsage {
  table: string;
  scope: string;
  rows: number;
  /** Sum of pg_column_size() of the tenant's rows: the data itself, without indexes or page overhead. */
  bytes: number;
}

export interface Usage {
  tenant: string;
  status: string;
  tables: TableUsage[];
  rows: number;
  bytes: number;
  logins: string[];
  /** Backends of the tenant's logins connected to this database now. */
  connections: number;
  quota: Quota;
  /** Quotas exceeded (only reported: PostgreSQL does not enforce rows or storage). */
  over: string[];
  /** Logins whose live CONNECTION LIMIT or statement_timeout differ from the stored quota. */
  drift: string[];
  unscoped: string[];
}

export async function tenantUsage(tx: Executor, schema: string, slug: string, tenantColumn?: string): Promise<Usage> {
  const t: TenantRow = await getTenant(tx, schema, slug);
  await requireBypass(tx, 'tenant usage');
  const scope = await tenantScope(tx, { registrySchema: schema, ...(tenantColumn !== undefined ? { tenantColumn } : {}) });
  const tables: TableUsage[] = [];
  for (const table of scope.tables) {
    const rows = (await tx.unsafe(
      `SELECT count(*)::bigint::text AS n, coalesce(sum(pg_catalog.pg_column_size(x.*)), 0)::bigint::text AS bytes FROM ${qualified(table.schema, table.name)} x WHERE ${tenantPredicate(scope, table, 'x', t)}`,
    )) as unknown as { n: string; bytes: string }[];
    tables.push({ table: table.key, scope: describeScope(table), rows: Number(rows[0]?.n ?? 0), bytes: Number(rows[0]?.bytes ?? 0) });
  }
  const logins = await tenantLogins(tx, slug);
  const conn = (await tx.unsafe(
    `SELECT count(*)::int AS n FROM pg_catalog.pg_stat_activity WHERE datname = pg_catalog.current_database() AND usename = ANY($1::text[])`,
    [logins],
  )) as unknown as { n: number }[];
  const quota = await readQuota(tx, schema, t.id);
  const rows = tables.reduce((a, x) => a + x.rows, 0);
  const bytes = tables.reduce((a, x) => a + x.bytes, 0);
  const over: string[] = [];
  if (quota.maxRows !== null && rows > quota.maxRows) over.push(`rows: ${rows} > max ${quota.maxRows}`);
  if (quota.maxStorageBytes !== null && bytes > quota.maxStorageBytes) over.push(`storage: ${bytes} bytes > max ${quota.maxStorageBytes}`);
  const connections = conn[0]?.n ?? 0;
  const drift = await quotaDrift(tx, quota, logins);
  return { tenant: t.slug, status: t.status, tables, rows, bytes, logins, connections, quota, over, drift, unscoped: scope.unscoped };
}
