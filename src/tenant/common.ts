// Shared pieces of the tenant commands: the error type, slug checks, the registry's presence, tenant lookup.
import { ident } from '../pg/quote.js';
import { registry, run, type Executor } from '../registry/db.js';
import type { TenantKind, TenantStatus } from '../registry/types.js';

/** A problem the operator caused or can fix; the CLI prints the message and exits 1. */
export class TenantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TenantError';
  }
}

/** The registry's own CHECK on tenants.slug (migrations/000001), checked before anything is sent. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;

export function checkSlug(slug: string): void {
  if (!SLUG_PATTERN.test(slug)) {
    throw new TenantError(
      `invalid tenant slug "${slug}": 3 to 40 characters, lowercase letters, digits and dashes, starting and ending with a letter or digit`,
    );
  }
}

export const STATUSES: readonly TenantStatus[] = ['demo', 'trial', 'active', 'frozen', 'archived'];
export const KINDS: readonly TenantKind[] = ['customer', 'demo'];

export interface TenantRow {
  id: string;
  slug: string;
  name: string;
  status: TenantStatus;
  kind: TenantKind;
  plan: string;
  created_at: Date;
  updated_at: Date;
}

/** Fails with a clear message when the registry is not migrated in `schema`. */
export async function requireRegistry(db: Executor, schema: string): Promise<void> {
  const rows = (await db.unsafe(`SELECT to_regclass($1) IS NOT NULL AS present`, [`${ident(schema)}.tenants`])) as unknown as { present: boolean }[];
  if (rows[0]?.present !== true) {
    throw new TenantError(`the tenant registry is not migrated in schema ${schema}: run \`tenantctl migrate up\` first`);
  }
}

/** The tenant named `slug`; `forUpdate` locks its row until the transaction ends. */
export async function findTenant(db: Executor, schema: string, slug: string, forUpdate = false): Promise<TenantRow | undefined> {
  let q = registry(schema)
    .selectFrom('tenants')
    .select(['id', 'slug', 'name', 'status', 'kind', 'plan', 'created_at', 'updated_at'])
    .where('slug', '=', slug);
  if (forUpdate) q = q.forUpdate();
  const rows = await run(db, q);
  return rows[0] as TenantRow | undefined;
}

/** The tenant named `slug`, or an error naming it (after checking the slug's shape and the registry). */
export async function getTenant(db: Executor, schema: string, slug: string, forUpdate = false): Promise<TenantRow> {
  checkSlug(slug);
  await requireRegistry(db, schema);
  const t = await findTenant(db, schema, slug, forUpdate);
  if (!t) throw new TenantError(`unknown tenant "${slug}"`);
  return t;
}

/** True when `tenantctl.principals` exists (policies were applied in this database). */
export async function principalsExist(db: Executor): Promise<boolean> {
  const rows = (await db.unsafe(`SELECT to_regclass('tenantctl.principals') IS NOT NULL AS present`)) as unknown as { present: boolean }[];
  return rows[0]?.present === true;
}

/** The tenant's login roles: those whose principals row in THIS database names the tenant (roles are cluster-wide). */
export async function tenantLogins(db: Executor, slug: string): Promise<string[]> {
  if (!(await principalsExist(db))) return [];
  const rows = (await db.unsafe(
    `SELECT p.role::text AS role FROM tenantctl.principals p JOIN pg_catalog.pg_roles r ON r.rolname = p.role WHERE p.kind = 'user' AND p.tenant = $1 ORDER BY 1`,
    [slug],
  )) as unknown as { role: string }[];
  return rows.map((r) => r.role);
}
