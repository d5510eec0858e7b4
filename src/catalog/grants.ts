// The catalog's grants one by one (expandGrants) and back in sets (grantSets). The catalog keeps them as sets
// (CatalogGrantSet, see types.ts); these are for the few places that want single privileges: the statements of
// a revoke, lint, and catalogs written by hand in tests.
import { compareText, sortPrivileges } from './map.js';
import type { CatalogGrant, CatalogGrantSet } from './types.js';

/** Grants of one object among themselves: by column, grantee, privilege, grantor, grantable. */
export function compareGrants(a: CatalogGrant, b: CatalogGrant): number {
  return (
    compareText(a.column ?? '', b.column ?? '') ||
    compareText(a.grantee, b.grantee) ||
    compareText(a.privilege, b.privilege) ||
    compareText(a.grantor, b.grantor) ||
    compareText(String(a.grantable), String(b.grantable))
  );
}

/**
 * One CatalogGrant per privilege (and column, for column privileges), objects in the order of their first set,
 * each object's grants by (column, grantee, privilege, grantor, grantable): for the catalog's sets, which are
 * sorted by object, the order of (object kind, schema, name, column, grantee, privilege, grantor, grantable).
 * A subset of the sets gives the same grants in the same relative order.
 */
export function expandGrants(sets: readonly CatalogGrantSet[]): CatalogGrant[] {
  const objects = new Map<string, CatalogGrant[]>();
  for (const s of sets) {
    const { objectKind, schema, name, grantee, grantor } = s;
    const id = [objectKind, schema, name].join('\u0000');
    let list = objects.get(id);
    if (!list) objects.set(id, (list = []));
    for (const { privilege, grantable, columns } of s.privileges) {
      if (objectKind !== 'column') {
        list.push({ objectKind, schema, name, grantee, grantor, privilege, grantable });
        continue;
      }
      for (const column of columns ?? []) list.push({ objectKind, schema, name, column, grantee, grantor, privilege, grantable });
    }
  }
  const out: CatalogGrant[] = [];
  for (const list of objects.values()) for (const g of list.sort(compareGrants)) out.push(g);
  return out;
}

/**
 * Single grants gathered into sets: one per (object kind, schema, name, grantee, grantor), in the order of
 * their first grant; privileges in (privilege, grantable) order, columns in the order given, each once.
 */
export function grantSets(grants: readonly CatalogGrant[]): CatalogGrantSet[] {
  const sets = new Map<string, { set: CatalogGrantSet; privileges: Map<string, { privilege: string; grantable: boolean; columns?: string[] }> }>();
  for (const g of grants) {
    const id = [g.objectKind, g.schema, g.name, g.grantee, g.grantor].join('\u0000');
    let entry = sets.get(id);
    if (!entry) {
      const privileges = new Map<string, { privilege: string; grantable: boolean; columns?: string[] }>();
      entry = { set: { objectKind: g.objectKind, schema: g.schema, name: g.name, grantee: g.grantee, grantor: g.grantor, privileges: [] }, privileges };
      sets.set(id, entry);
    }
    const pid = `${g.privilege}\u0000${g.grantable}`;
    let p = entry.privileges.get(pid);
    if (!p) entry.privileges.set(pid, (p = g.objectKind === 'column' ? { privilege: g.privilege, grantable: g.grantable, columns: [] } : { privilege: g.privilege, grantable: g.grantable }));
    if (g.objectKind === 'column' && g.column !== undefined && !p.columns!.includes(g.column)) p.columns!.push(g.column);
  }
  return [...sets.values()].map(({ set, privileges }) => ({ ...set, privileges: sortPrivileges([...privileges.values()]) }));
}
