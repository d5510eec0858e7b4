// tenant purge: GDPR erasure of every governed row of one tenant, its principals rows and its login roles, in one
// transaction. Idempotent: a second run finds nothing left and changes nothing. The registry row stays (archived);
// the tenant's audit rows stay, detached from it (tenant_id NULL), as the registry's ON DELETE SET NULL intends.
import { ident, qualified } from '../pg/quote.js';
import { recordAudit } from '../registry/audit.js';
import { registry, run, type Executor } from '../registry/db.js';
import { getTenant, principalsExist, tenantLogins } from './common.js';
import { requireBypass, tenantPredicate, tenantScope } from './scope.js';

export interface PurgeReport {
  tenant: string;
  tenantId: string;
  /** Rows per table, in deletion order (children first). */
  tables: { table: string; rows: number }[];
  logins: string[];
  auditRows: number;
  statusBefore: string;
  /** False for a report without --confirm, or when nothing was left to purge. */
  purged: boolean;
}

export async function purgeTenant(tx: Executor, schema: string, slug: string, options: { confirm: boolean; tenantColumn?: string }): Promise<PurgeReport> {
  const t = await getTenant(tx, schema, slug, true);
  await requireBypass(tx, 'tenant purge');
  const scope = await tenantScope(tx, { registrySchema: schema, ...(options.tenantColumn !== undefined ? { tenantColumn: options.tenantColumn } : {}) });
  const childrenFirst = [...scope.tables].reverse();
  const tables: PurgeReport['tables'] = [];
  for (const table of childrenFirst) {
    const rows = (await tx.unsafe(`SELECT count(*)::bigint::text AS n FROM ${qualified(table.schema, table.name)} x WHERE ${tenantPredicate(scope, table, 'x', t)}`)) as unknown as { n: string }[];
    tables.push({ table: table.key, rows: Number(rows[0]?.n ?? 0) });
  }
  const logins = await tenantLogins(tx, slug);
  const audit = await run(tx, registry(schema).selectFrom('audit_log').select((eb) => eb.fn.countAll<string>().as('n')).where('tenant_id', '=', t.id));
  const auditRows = Number(audit[0]?.n ?? 0);
  const report: PurgeReport = { tenant: t.slug, tenantId: t.id, tables, logins, auditRows, statusBefore: t.status, purged: false };
  const nothingLeft = tables.every((x) => x.rows === 0) && logins.length === 0 && auditRows === 0 && t.status === 'archived';
  if (!options.confirm || nothingLeft) return report;

  // Archive first: from here on, the tenant's sessions see nothing while the rows go.
  await run(tx, registry(schema).updateTable('tenants').set({ status: 'archived' }).where('id', '=', t.id));
  for (const table of childrenFirst) {
    await tx.unsafe(`DELETE FROM ${qualified(table.schema, table.name)} x WHERE ${tenantPredicate(scope, table, 'x', t)}`);
  }
  if (await principalsExist(tx)) {
    await tx.unsafe(`DELETE FROM tenantctl.principals WHERE kind = 'user' AND tenant = $1`, [slug]);
    const applied = (await tx.unsafe(`SELECT to_regclass('tenantctl.applied') IS NOT NULL AS present`)) as unknown as { present: boolean }[];
    if (applied[0]?.present) await tx.unsafe(`DELETE FROM tenantctl.applied WHERE object = ANY($1::text[])`, [logins.map((l) => `login ${l}`)]);
  }
  // Roles are cluster-wide: only the logins whose principals row in this database named the tenant.
  for (const role of logins) await tx.unsafe(`DROP ROLE ${ident(role)}`);
  await run(tx, registry(schema).updateTable('audit_log').set({ tenant_id: null }).where('tenant_id', '=', t.id));
  await recordAudit(tx, schema, {
    action: 'tenant.purge',
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: null,
    metadata: { rows: Object.fromEntries(tables.map((x) => [x.table, x.rows])), logins: logins.length, audit_rows_detached: auditRows, status_before: t.status },
  });
  return { ...report, purged: true };
}
