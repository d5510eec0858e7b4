// The grants of the persona roles: what the catalog holds against what the file wants. Pure.
//
// At 500 tables and 4 personas both sides are about 33,000 single privileges (mostly column SELECTs). The plan
// used to build a key string for each one on both sides and compare two maps of them: 60-100 ms and most of the
// plan's garbage. Here the held side is an index of the catalog's sets (nested maps, no key string per
// lookup), the wanted side is looked up in it as the plan produces it, column by column, and the held grants
// nothing wanted are only listed when a count says that there are some.
import { expandGrants } from '../catalog/grants.js';
import type { CatalogGrant, CatalogGrantSet } from '../catalog/types.js';

type Kind = CatalogGrant['objectKind'];

/** A grant the file wants: not grantable; the grantor is whoever applies. */
export function wantedGrant(objectKind: Kind, schema: string, name: string, grantee: string, privilege: string, column?: string): CatalogGrant {
  return { objectKind, schema, name, grantee, privilege, grantable: false, grantor: '', ...(column === undefined ? {} : { column }) };
}

/** privilege -> column ('' for a privilege on the whole object) -> whether the file wants it (so far). */
type Held = Map<string, Map<string, boolean>>;

/**
 * What the persona roles hold (from the catalog) and what the file wants of it (want(), in plan order). A held
 * grant is the grantee's privilege on the object (or column), whoever granted it and whether grantable; an
 * object's owner's own entries in its ACL are not grants (a persona owner owns its views).
 */
export class PersonaGrants {
  /** grantee -> object kind -> schema -> name -> what the grantee holds there. */
  private readonly index = new Map<string, Map<Kind, Map<string, Map<string, Held>>>>();
  private readonly heldSets: CatalogGrantSet[] = [];
  /** Distinct held grants, and how many of them the file wants: equal when there is nothing to revoke. */
  private heldCount = 0;
  private wantedCount = 0;
  private readonly missingKeys = new Set<string>();
  private readonly missingGrants: CatalogGrant[] = [];
  private extraGrants: CatalogGrant[] | undefined;

  constructor(
    catalog: readonly CatalogGrantSet[],
    personaRoles: ReadonlySet<string>,
    ownerOf: (object: { readonly schema: string; readonly name: string }) => string | undefined,
  ) {
    for (const s of catalog) {
      if (!personaRoles.has(s.grantee)) continue;
      if (s.objectKind !== 'schema' && ownerOf(s) === s.grantee) continue;
      this.heldSets.push(s);
      const held = this.held(s.grantee, s.objectKind, s.schema, s.name, true)!;
      for (const p of s.privileges) {
        let columns = held.get(p.privilege);
        if (!columns) held.set(p.privilege, (columns = new Map()));
        for (const column of s.objectKind === 'column' ? (p.columns ?? []) : ['']) {
          if (columns.has(column)) continue;
          columns.set(column, false);
          this.heldCount++;
        }
      }
    }
  }

  private held(grantee: string, kind: Kind, schema: string, name: string, create: boolean): Held | undefined {
    let byKind = this.index.get(grantee);
    if (!byKind) {
      if (!create) return undefined;
      this.index.set(grantee, (byKind = new Map()));
    }
    let bySchema = byKind.get(kind);
    if (!bySchema) {
      if (!create) return undefined;
      byKind.set(kind, (bySchema = new Map()));
    }
    let byName = bySchema.get(schema);
    if (!byName) {
      if (!create) return undefined;
      bySchema.set(schema, (byName = new Map()));
    }
    let held = byName.get(name);
    if (!held && create) byName.set(name, (held = new Map()));
    return held;
  }

  /**
   * The file wants `grantee` to hold each of `privileges` on the object; for column privileges (`columns`
   * given), on each column: column by column, each column's privileges in the order given.
   */
  want(objectKind: Kind, schema: string, name: string, grantee: string, privileges: readonly string[], columns?: readonly string[]): void {
    const held = this.held(grantee, objectKind, schema, name, false);
    if (columns === undefined) {
      for (const privilege of privileges) this.check(held, objectKind, schema, name, grantee, privilege, undefined);
      return;
    }
    for (const column of columns) for (const privilege of privileges) this.check(held, objectKind, schema, name, grantee, privilege, column);
  }

  private check(held: Held | undefined, objectKind: Kind, schema: string, name: string, grantee: string, privilege: string, column: string | undefined): void {
    const columns = held?.get(privilege);
    const key = column ?? '';
    const wanted = columns?.get(key);
    if (wanted === false) {
      columns!.set(key, true);
      this.wantedCount++;
    } else if (wanted === undefined) {
      // Not held: rare (a plan with changes), so a key string is fine here.
      const id = [objectKind, schema, name, key, grantee, privilege].join('\u0000');
      if (this.missingKeys.has(id)) return;
      this.missingKeys.add(id);
      this.missingGrants.push(wantedGrant(objectKind, schema, name, grantee, privilege, column));
    }
  }

  /** Wanted and not held, each once, in the order first wanted. */
  missing(): readonly CatalogGrant[] {
    return this.missingGrants;
  }

  /** Held and not wanted, each once, in catalog order (expandGrants). Call after the last want(). */
  extra(): readonly CatalogGrant[] {
    if (this.extraGrants) return this.extraGrants;
    const out: CatalogGrant[] = [];
    if (this.wantedCount < this.heldCount) {
      for (const g of expandGrants(this.heldSets)) {
        const columns = this.held(g.grantee, g.objectKind, g.schema, g.name, false)?.get(g.privilege);
        const key = g.column ?? '';
        if (columns?.get(key) !== false) continue;
        columns.set(key, true); // listed once
        out.push(g);
      }
    }
    return (this.extraGrants = out);
  }
}
