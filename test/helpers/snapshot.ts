// A catalog snapshot of one test database, for "nothing changed" and "before or after, never a mix" checks.
import type postgres from 'postgres';
import { readCatalog } from '../../src/catalog/read.js';

/**
 * readCatalog of the database, with what other test databases may change at the same time left out: roles
 * are cluster-wide, so keep this database's persona roles, and of the given logins only their memberships in
 * those, without password salts (an apply elsewhere may set the same password again).
 */
export async function catalogSnapshot(sql: postgres.Sql, logins: readonly string[] = ['alice', 'bob', 'charlie']): Promise<unknown> {
  return sql.begin(async (tx) => {
    await tx`SET LOCAL search_path = public`;
    const c = await readCatalog(tx, { schemas: ['public'], registrySchema: 'tenant_registry' });
    const local = new Set(c.schemas.filter((s) => s.name.startsWith('tenantctl_')).map((s) => s.name));
    const isLocal = (role: string): boolean => local.has(role.replace(/_(owner|reader)$/, ''));
    const roles = c.roles
      .filter((r) => isLocal(r.name) || logins.includes(r.name))
      .map(({ passwordVerifier: _verifier, ...r }) => ({ ...r, memberOf: r.memberOf.filter(isLocal) }));
    return { ...c, roles };
  });
}
