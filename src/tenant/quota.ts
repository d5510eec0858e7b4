// Tenant quotas. PostgreSQL enforces two of them on the tenant's login roles (the roles whose principals row in
// this database names the tenant): CONNECTION LIMIT (per login) and statement_timeout (ALTER ROLE ... IN
// DATABASE ... SET). Rows and storage are only measured and reported by `tenant usage`.
import { ident, literal } from '../pg/quote.js';
import { recordAudit } from '../registry/audit.js';
import type { Executor } from '../registry/db.js';
import { getTenant, TenantError, tenantLogins } from './common.js';

export interface Quota {
  maxConnections: number | null;
  statementTimeoutMs: number | null;
  maxRows: number | null;
  maxStorageBytes: number | null;
}

export const NO_QUOTA: Quota = { maxConnections: null, statementTimeoutMs: null, maxRows: null, maxStorageBytes: null };

async function quotaTableExists(db: Executor, schema: string): Promise<boolean> {
  const rows = (await db.unsafe(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${ident(schema)}.tenant_quotas`])) as unknown as { present: boolean }[];
  return rows[0]?.present === true;
}

export async function readQuota(db: Executor, schema: string, tenantId: string): Promise<Quota> {
  if (!(await quotaTableExists(db, schema))) return NO_QUOTA;
  const rows = (await db.unsafe(
    `SELECT max_connections, statement_timeout_ms::text, max_rows::text, max_storage_bytes::text FROM ${ident(schema)}.tenant_quotas WHERE tenant_id = $1`,
    [tenantId],
  )) as unknown as { max_connections: number | null; statement_timeout_ms: string | null; max_rows: string | null; max_storage_bytes: string | null }[];
  const r = rows[0];
  if (!r) return NO_QUOTA;
  const n = (v: string | null): number | null => (v === null ? null : Number(v));
  return { maxConnections: r.max_connections, statementTimeoutMs: n(r.statement_timeout_ms), maxRows: n(r.max_rows), maxStorageBytes: n(r.max_storage_bytes) };
}

export interface QuotaChange {
  maxConnections?: number | null;
  statementTimeoutMs?: number | null;
  maxRows?: number | null;
  maxStorageBytes?: number | null;
}

export interface QuotaResult {
  quota: Quota;
  logins: string[];
  /** Statements run on the logins (for the report). */
  statements: string[];
}

/**
 * Store the quota (fields not given keep their value; null clears one) and enforce it on every login of the
 * tenant: CONNECTION LIMIT max_connections (-1 when cleared) and statement_timeout in this database. Running it
 * with no change re-enforces the stored quota (after an apply reset a login's limit, or for a new login).
 */
export async function setQuota(tx: Executor, schema: string, slug: string, change: QuotaChange): Promise<QuotaResult> {
  const t = await getTenant(tx, schema, slug, true);
  if (!(await quotaTableExists(tx, schema))) {
    throw new TenantError(`the registry in schema ${schema} has no tenant_quotas table (migration 2): run \`tenantctl migrate up\``);
  }
  const old = await readQuota(tx, schema, t.id);
  const quota: Quota = {
    maxConnections: change.maxConnections !== undefined ? change.maxConnections : old.maxConnections,
    statementTimeoutMs: change.statementTimeoutMs !== undefined ? change.statementTimeoutMs : old.statementTimeoutMs,
    maxRows: change.maxRows !== undefined ? change.maxRows : old.maxRows,
    maxStorageBytes: change.maxStorageBytes !== undefined ? change.maxStorageBytes : old.maxStorageBytes,
  };
  await tx.unsafe(
    `INSERT INTO ${ident(schema)}.tenant_quotas AS q (tenant_id, max_connections, statement_timeout_ms, max_rows, max_storage_bytes)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id) DO UPDATE SET max_connections = EXCLUDED.max_connections, statement_timeout_ms = EXCLUDED.statement_timeout_ms,
       max_rows = EXCLUDED.max_rows, max_storage_bytes = EXCLUDED.max_storage_bytes, updated_at = now()`,
    [t.id, quota.maxConnections, quota.statementTimeoutMs, quota.maxRows, quota.maxStorageBytes],
  );
  const logins = await tenantLogins(tx, slug);
  const db = ((await tx.unsafe(`SELECT current_database()::text AS d`)) as unknown as { d: string }[])[0]?.d as string;
  const statements: string[] = [];
  for (const role of logins) {
    statements.push(`ALTER ROLE ${ident(role)} CONNECTION LIMIT ${quota.maxConnections ?? -1}`);
    statements.push(
      quota.statementTimeoutMs === null
        ? `ALTER ROLE ${ident(role)} IN DATABASE ${ident(db)} RESET statement_timeout`
        : `ALTER ROLE ${ident(role)} IN DATABASE ${ident(db)} SET statement_timeout = ${literal(`${quota.statementTimeoutMs}ms`)}`,
    );
  }
  for (const s of statements) await tx.unsafe(s);
  const changed = JSON.stringify(old) !== JSON.stringify(quota);
  await recordAudit(tx, schema, {
    action: 'tenant.quota',
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: t.id,
    metadata: { from: old, to: quota, logins: logins.length, changed },
  });
  return { quota, logins, statements };
}

/** Logins whose live limits differ from the stored quota (an apply resets CONNECTION LIMIT to the file's value). */
export async function quotaDrift(db: Executor, quota: Quota, logins: string[]): Promise<string[]> {
  if (logins.length === 0) return [];
  const rows = (await db.unsafe(
    `SELECT r.rolname::text AS role, r.rolconnlimit AS lim,
            (SELECT x FROM pg_catalog.pg_db_role_setting s, pg_catalog.unnest(s.setconfig) x
              WHERE s.setrole = r.oid AND s.setdatabase = (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database())
                AND x LIKE 'statement\\_timeout=%') AS timeout
       FROM pg_catalog.pg_roles r WHERE r.rolname = ANY($1::text[]) ORDER BY 1`,
    [logins],
  )) as unknown as { role: string; lim: number; timeout: string | null }[];
  const drift: string[] = [];
  for (const r of rows) {
    if (quota.maxConnections !== null && r.lim !== quota.maxConnections) drift.push(`${r.role}: CONNECTION LIMIT ${r.lim}, quota ${quota.maxConnections}`);
    const want = quota.statementTimeoutMs === null ? null : `statement_timeout=${quota.statementTimeoutMs}ms`;
    if (quota.statementTimeoutMs !== null && r.timeout !== want) drift.push(`${r.role}: ${r.timeout ?? 'no statement_timeout'}, quota ${quota.statementTimeoutMs}ms`);
  }
  return drift;
}
