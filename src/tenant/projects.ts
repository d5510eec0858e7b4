// Projects (tenant_projects: optional sub-tenancy) and products (tenant_products: entitlements with JSON config).
import { sql as raw } from 'kysely';
import { recordAudit } from '../registry/audit.js';
import { registry, run, type Executor } from '../registry/db.js';
import { getTenant, TenantError } from './common.js';

export const PROJECT_SLUG = /^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$/;
export const PRODUCT_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export interface ProjectRow {
  id: string;
  slug: string;
  name: string;
  status: string;
  created_at: Date;
}

export async function createProject(tx: Executor, schema: string, tenant: string, slug: string, name: string): Promise<ProjectRow> {
  if (!PROJECT_SLUG.test(slug)) throw new TenantError(`invalid project slug "${slug}": 2 to 40 characters, lowercase letters, digits and dashes, starting and ending with a letter or digit`);
  if (name.trim() === '') throw new TenantError('--name must not be empty');
  const t = await getTenant(tx, schema, tenant, true);
  if (t.status === 'archived') throw new TenantError(`tenant "${tenant}" is archived: no new projects`);
  const rows = await run(
    tx,
    registry(schema)
      .insertInto('tenant_projects')
      .values({ tenant_id: t.id, slug, name })
      .onConflict((oc) => oc.columns(['tenant_id', 'slug']).doNothing())
      .returning([raw<string>`id::text`.as('id'), 'slug', 'name', 'status', 'created_at']),
  );
  const p = rows[0] as ProjectRow | undefined;
  if (!p) throw new TenantError(`tenant "${tenant}" already has a project "${slug}"`);
  await recordAudit(tx, schema, { action: 'tenant.project.create', targetType: 'project', targetId: p.id, targetName: slug, tenantId: t.id, projectId: p.id, metadata: { name } });
  return p;
}

export async function listProjects(db: Executor, schema: string, tenant: string): Promise<ProjectRow[]> {
  const t = await getTenant(db, schema, tenant);
  return (await run(
    db,
    registry(schema).selectFrom('tenant_projects').select([raw<string>`id::text`.as('id'), 'slug', 'name', 'status', 'created_at']).where('tenant_id', '=', t.id).orderBy('slug'),
  )) as ProjectRow[];
}

export async function archiveProject(tx: Executor, schema: string, tenant: string, slug: string): Promise<boolean> {
  const t = await getTenant(tx, schema, tenant, true);
  const rows = await run(
    tx,
    registry(schema).selectFrom('tenant_projects').select([raw<string>`id::text`.as('id'), 'status']).where('tenant_id', '=', t.id).where('slug', '=', slug).forUpdate(),
  );
  const p = rows[0];
  if (!p) throw new TenantError(`tenant "${tenant}" has no project "${slug}"`);
  if (p.status === 'archived') return false;
  await run(tx, registry(schema).updateTable('tenant_projects').set({ status: 'archived' }).where(raw<boolean>`id = ${p.id}::uuid`));
  await recordAudit(tx, schema, { action: 'tenant.project.archive', targetType: 'project', targetId: p.id, targetName: slug, tenantId: t.id, projectId: p.id });
  return true;
}

export interface ProductRow {
  product: string;
  enabled: boolean;
  config: unknown;
  expires_at: Date | null;
}

export function parseConfig(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new TenantError(`--config must be a JSON object: ${(e as Error).message}`);
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new TenantError('--config must be a JSON object, e.g. \'{"max_seats": 10}\'');
  return v as Record<string, unknown>;
}

export function parseExpiry(text: string | undefined): Date | null | undefined {
  if (text === undefined) return undefined;
  if (text === 'never') return null;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(text) || Number.isNaN(new Date(text).getTime())) {
    throw new TenantError(`--expires must be an ISO date or time (2026-12-31, 2026-12-31T23:59:59Z) or "never", got "${text}"`);
  }
  return new Date(text);
}

/** Enable (insert or update) a product; config and expiry replace the stored ones only when given. */
export async function setProduct(
  tx: Executor,
  schema: string,
  tenant: string,
  product: string,
  enabled: boolean,
  options: { config?: Record<string, unknown>; expires?: Date | null } = {},
): Promise<{ row: ProductRow; changed: boolean }> {
  if (!PRODUCT_NAME.test(product)) throw new TenantError(`invalid product name "${product}": lowercase letters, digits, . _ -, at most 63 characters`);
  const t = await getTenant(tx, schema, tenant, true);
  if (enabled && t.status === 'archived') throw new TenantError(`tenant "${tenant}" is archived: no products can be enabled`);
  const existing = await run(tx, registry(schema).selectFrom('tenant_products').select(['product', 'enabled', 'config', 'expires_at']).where('tenant_id', '=', t.id).where('product', '=', product).forUpdate());
  const old = existing[0] as ProductRow | undefined;
  if (!old && !enabled) throw new TenantError(`tenant "${tenant}" has no product "${product}"`);
  const config = options.config !== undefined ? options.config : ((old?.config as Record<string, unknown> | undefined) ?? {});
  const expires = options.expires !== undefined ? options.expires : (old?.expires_at ?? null);
  const same = old && old.enabled === enabled && JSON.stringify(old.config) === JSON.stringify(config) && (old.expires_at?.getTime() ?? null) === (expires?.getTime() ?? null);
  if (same) return { row: old, changed: false };
  const configSql = raw<string>`${JSON.stringify(config)}::text::jsonb`;
  const rows = await run(
    tx,
    registry(schema)
      .insertInto('tenant_products')
      .values({ tenant_id: t.id, product, enabled, config: configSql, expires_at: expires })
      .onConflict((oc) => oc.columns(['tenant_id', 'product']).doUpdateSet({ enabled, config: configSql, expires_at: expires }))
      .returning(['product', 'enabled', 'config', 'expires_at']),
  );
  const row = rows[0] as ProductRow;
  await recordAudit(tx, schema, {
    action: enabled ? 'tenant.product.enable' : 'tenant.product.disable',
    targetType: 'product',
    targetName: product,
    tenantId: t.id,
    metadata: { config_keys: Object.keys(config).sort(), expires_at: expires?.toISOString() ?? null },
  });
  return { row, changed: true };
}

export async function listProducts(db: Executor, schema: string, tenant: string): Promise<(ProductRow & { expired: boolean })[]> {
  const t = await getTenant(db, schema, tenant);
  const rows = (await run(
    db,
    registry(schema)
      .selectFrom('tenant_products')
      .select(['product', 'enabled', 'config', 'expires_at', raw<boolean>`coalesce(expires_at <= now(), false)`.as('expired')])
      .where('tenant_id', '=', t.id)
      .orderBy('product'),
  )) as (ProductRow & { expired: boolean })[];
  return rows;
}
