// Tenant lifecycle in the registry: create, list, show, freeze, unfreeze, archive.
//
// Status is enforced by the database at once: tenantctl.current_tenant()/visible()/writable() (sql/runtime.sql)
// read <registry>.tenants.status on every statement, keyed by session_user. So a status change is a single
// UPDATE of the registry row plus its audit row, in one transaction, with no DDL on any governed table.
import { sql as raw } from 'kysely';
import { recordAudit } from '../registry/audit.js';
import { registry, run, type Executor } from '../registry/db.js';
import type { TenantKind, TenantStatus } from '../registry/types.js';
import { readQuota, type Quota } from './quota.js';
import { checkSlug, findTenant, getTenant, KINDS, requireRegistry, TenantError, tenantLogins, type TenantRow } from './common.js';

export interface CreateTenantInput {
  slug: string;
  name: string;
  plan?: string;
  status?: TenantStatus;
  kind?: TenantKind;
}

const CREATE_STATUSES: readonly TenantStatus[] = ['trial', 'active', 'demo'];

export async function createTenant(tx: Executor, schema: string, input: CreateTenantInput): Promise<TenantRow> {
  checkSlug(input.slug);
  if (input.name.trim() === '') throw new TenantError('--name must not be empty');
  if (input.status !== undefined && !CREATE_STATUSES.includes(input.status)) {
    throw new TenantError(`--status must be one of ${CREATE_STATUSES.join(', ')}, got "${input.status}"`);
  }
  if (input.kind !== undefined && !KINDS.includes(input.kind)) throw new TenantError(`--kind must be one of ${KINDS.join(', ')}, got "${input.kind}"`);
  if (input.plan !== undefined && input.plan.trim() === '') throw new TenantError('--plan must not be empty');
  await requireRegistry(tx, schema);
  if (await findTenant(tx, schema, input.slug)) throw new TenantError(`tenant "${input.slug}" already exists`);
  const rows = await run(
    tx,
    registry(schema)
      .insertInto('tenants')
      .values({
        slug: input.slug,
        name: input.name,
        ...(input.plan !== undefined ? { plan: input.plan } : {}),
        ...(input.status !== undefined ? { status: input.status } : {}),
        ...(input.kind !== undefined ? { kind: input.kind } : {}),
      })
      // A concurrent create of the same slug loses here instead of failing on the unique index.
      .onConflict((oc) => oc.column('slug').doNothing())
      .returning(['id', 'slug', 'name', 'status', 'kind', 'plan', 'created_at', 'updated_at']),
  );
  const t = rows[0] as TenantRow | undefined;
  if (!t) throw new TenantError(`tenant "${input.slug}" already exists`);
  await recordAudit(tx, schema, {
    action: 'tenant.create',
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: t.id,
    metadata: { status: t.status, kind: t.kind, plan: t.plan },
  });
  return t;
}

export async function listTenants(db: Executor, schema: string, status?: TenantStatus): Promise<TenantRow[]> {
  await requireRegistry(db, schema);
  let q = registry(schema).selectFrom('tenants').select(['id', 'slug', 'name', 'status', 'kind', 'plan', 'created_at', 'updated_at']).orderBy('slug');
  if (status !== undefined) q = q.where('status', '=', status);
  return (await run(db, q)) as TenantRow[];
}

export interface TenantDetails extends TenantRow {
  logins: string[];
  apiKeys: { live: number; revoked: number };
  projects: { slug: string; status: string }[];
  products: { product: string; enabled: boolean; expires_at: Date | null }[];
  quota: Quota;
}

export async function showTenant(db: Executor, schema: string, slug: string): Promise<TenantDetails> {
  const t = await getTenant(db, schema, slug);
  const keys = await run(
    db,
    registry(schema)
      .selectFrom('api_keys')
      .select([raw<number>`count(*) FILTER (WHERE revoked_at IS NULL)::int`.as('live'), raw<number>`count(*) FILTER (WHERE revoked_at IS NOT NULL)::int`.as('revoked')])
      .where('tenant_id', '=', t.id),
  );
  const projects = await run(db, registry(schema).selectFrom('tenant_projects').select(['slug', 'status']).where('tenant_id', '=', t.id).orderBy('slug'));
  const products = await run(
    db,
    registry(schema).selectFrom('tenant_products').select(['product', 'enabled', 'expires_at']).where('tenant_id', '=', t.id).orderBy('product'),
  );
  return { ...t, logins: await tenantLogins(db, slug), apiKeys: keys[0] ?? { live: 0, revoked: 0 }, projects, products, quota: await readQuota(db, schema, t.id) };
}

export type StatusChange = 'freeze' | 'unfreeze' | 'archive';

export interface StatusResult {
  tenant: TenantRow;
  from: TenantStatus;
  changed: boolean;
}

/**
 * freeze: demo/trial/active -> frozen (reads work, writes fail). unfreeze: frozen -> the status it had before the
 * freeze (from that freeze's audit row; active when unknown). archive: any -> archived (the tenant's users see
 * nothing). Asking for the status the tenant already has changes nothing and writes no audit row.
 */
export async function changeStatus(tx: Executor, schema: string, slug: string, change: StatusChange): Promise<StatusResult> {
  const t = await getTenant(tx, schema, slug, true);
  const from = t.status;
  let to: TenantStatus;
  switch (change) {
    case 'freeze':
      if (from === 'frozen') return { tenant: t, from, changed: false };
      if (from === 'archived') throw new TenantError(`tenant "${slug}" is archived: an archived tenant cannot be frozen`);
      to = 'frozen';
      break;
    case 'unfreeze':
      if (from !== 'frozen') throw new TenantError(`tenant "${slug}" is not frozen (status ${from})`);
      to = await statusBeforeFreeze(tx, schema, t.id);
      break;
    case 'archive':
      if (from === 'archived') return { tenant: t, from, changed: false };
      to = 'archived';
      break;
  }
  const rows = await run(
    tx,
    registry(schema)
      .updateTable('tenants')
      .set({ status: to })
      .where('id', '=', t.id)
      .returning(['id', 'slug', 'name', 'status', 'kind', 'plan', 'created_at', 'updated_at']),
  );
  const updated = rows[0] as TenantRow;
  await recordAudit(tx, schema, {
    action: `tenant.${change}`,
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: t.id,
    metadata: { from, to },
  });
  return { tenant: updated, from, changed: true };
}

async function statusBeforeFreeze(tx: Executor, schema: string, tenantId: string): Promise<TenantStatus> {
  const rows = await run(
    tx,
    registry(schema)
      .selectFrom('audit_log')
      .select(raw<string | null>`metadata ->> 'from'`.as('from'))
      .where('tenant_id', '=', tenantId)
      .where('action', '=', 'tenant.freeze')
      .orderBy('id', 'desc')
      .limit(1),
  );
  const from = rows[0]?.from;
  return from === 'demo' || from === 'trial' || from === 'active' ? from : 'active';
}
