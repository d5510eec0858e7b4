// The catalog's grants as sets (mapGrants) list exactly the single grants that the catalog used to hold, in the
// same order (expandGrants); grantSets gathers single grants back into sets.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { expandGrants, grantSets } from '../../../src/catalog/grants.js';
import { mapGrants, type GrantRow } from '../../../src/catalog/map.js';
import type { CatalogGrant, CatalogGrantSet } from '../../../src/catalog/types.js';

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** mapGrants as it was written before the sets: one CatalogGrant per privilege and column, sorted. */
function referenceMapGrants(rows: readonly GrantRow[]): CatalogGrant[] {
  const compareGrants = (a: CatalogGrant, b: CatalogGrant): number =>
    compareText(a.column ?? '', b.column ?? '') ||
    compareText(a.grantee, b.grantee) ||
    compareText(a.privilege, b.privilege) ||
    compareText(a.grantor, b.grantor) ||
    compareText(String(a.grantable), String(b.grantable));
  const objects = new Map<string, { key: string[]; grants: CatalogGrant[] }>();
  for (const r of rows) {
    const objectKind = r.object_kind as CatalogGrant['objectKind'];
    const id = `${objectKind}\u0000${r.schema}\u0000${r.name}`;
    let object = objects.get(id);
    if (!object) objects.set(id, (object = { key: [objectKind, r.schema, r.name], grants: [] }));
    for (const [privilege, grantable, columns] of r.privileges) {
      if (objectKind !== 'column') {
        object.grants.push({ objectKind, schema: r.schema, name: r.name, grantee: r.grantee, grantor: r.grantor, privilege, grantable });
        continue;
      }
      for (const column of columns ?? []) {
        object.grants.push({ objectKind, schema: r.schema, name: r.name, column, grantee: r.grantee, grantor: r.grantor, privilege, grantable });
      }
    }
  }
  const byKey = (a: string[], b: string[]): number => compareText(a[0]!, b[0]!) || compareText(a[1]!, b[1]!) || compareText(a[2]!, b[2]!);
  return [...objects.values()].sort((a, b) => byKey(a.key, b.key)).flatMap((o) => o.grants.sort(compareGrants));
}

const KINDS = ['table', 'column', 'schema', 'sequence'] as const;
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'USAGE', 'CREATE'];
const COLUMNS = ['id', 'org', 'Name', 'email', 'a b', 'é'];
const ROLES = ['alice', 'Bob', 'public', 'tenantctl_x_owner', 'tenantctl_x_reader', 'owner'];

const row: fc.Arbitrary<GrantRow> = fc
  .record({
    object_kind: fc.constantFrom(...KINDS),
    schema: fc.constantFrom('public', 'S', 's', 'tenantctl_x'),
    name: fc.constantFrom('t', 'T', 'orders', 'ä'),
    grantee: fc.constantFrom(...ROLES),
    grantor: fc.constantFrom('owner', 'postgres'),
    privileges: fc.uniqueArray(fc.tuple(fc.constantFrom(...PRIVILEGES), fc.boolean(), fc.shuffledSubarray(COLUMNS, { minLength: 1 })), {
      minLength: 1,
      maxLength: 5,
      selector: ([p, g]) => `${p}${g}`,
    }),
  })
  .map((r) => ({ ...r, privileges: r.privileges.map(([p, g, cols]) => (r.object_kind === 'column' ? [p, g, cols] : [p, g])) as GrantRow['privileges'] }));
// As the catalog query returns them: one row per object, grantee and grantor.
const rows = fc.uniqueArray(row, { maxLength: 40, selector: (r) => [r.object_kind, r.schema, r.name, r.grantee, r.grantor].join('\u0000') });

const setKey = (s: Pick<CatalogGrantSet, 'objectKind' | 'schema' | 'name' | 'grantee' | 'grantor'>): string[] => [s.objectKind, s.schema, s.name, s.grantee, s.grantor];

describe('mapGrants and expandGrants', () => {
  test('list the grants the catalog listed one by one, in the same order', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        expect(expandGrants(mapGrants(rs))).toStrictEqual(referenceMapGrants(rs));
      }),
      { numRuns: 500 },
    );
  });

  test('one set per row, sorted by object, grantee and grantor; privileges by (privilege, grantable); columns as read', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const sets = mapGrants(rs);
        expect(sets).toHaveLength(rs.length);
        const keys = sets.map((s) => setKey(s).join('\u0000'));
        expect(keys).toEqual([...keys].sort((a, b) => compareText(a, b)));
        for (const s of sets) {
          const r = rs.find((x) => setKey({ ...x, objectKind: x.object_kind as CatalogGrant['objectKind'] }).join('\u0000') === setKey(s).join('\u0000'))!;
          const privileges = s.privileges.map((p) => `${p.privilege}\u0000${p.grantable}`);
          expect(privileges).toEqual([...privileges].sort(compareText));
          expect(new Set(privileges)).toEqual(new Set(r.privileges.map(([p, g]) => `${p}\u0000${g}`)));
          for (const p of s.privileges) {
            expect(p.columns).toEqual(s.objectKind === 'column' ? r.privileges.find(([x, g]) => x === p.privilege && g === p.grantable)![2] : undefined);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  test('of a subset of the sets: the same grants in the same relative order (how plan lists the ones it revokes)', () => {
    fc.assert(
      fc.property(rows, fc.constantFrom(...ROLES), fc.constantFrom('public', 's', 'tenantctl_x'), (rs, grantee, schema) => {
        const sets = mapGrants(rs);
        const keep = (g: { grantee: string; schema: string; objectKind: string }) => g.grantee === grantee || (g.schema === schema && g.objectKind !== 'schema');
        expect(expandGrants(sets.filter(keep))).toStrictEqual(expandGrants(sets).filter(keep));
      }),
      { numRuns: 200 },
    );
  });

  test('an unknown object kind is refused', () => {
    expect(() => mapGrants([{ object_kind: 'function', schema: 's', name: 'f', grantee: 'a', grantor: 'b', privileges: [['EXECUTE', false]] }])).toThrow(/grant object kind/);
  });

  test('a column privilege without columns grants nothing', () => {
    const [set] = mapGrants([{ object_kind: 'column', schema: 's', name: 't', grantee: 'a', grantor: 'b', privileges: [['SELECT', false, null]] }]);
    expect(set?.privileges).toEqual([{ privilege: 'SELECT', grantable: false, columns: [] }]);
    expect(expandGrants([set!])).toEqual([]);
  });
});

describe('grantSets', () => {
  test('gathers single grants into the sets they came from', () => {
    fc.assert(
      fc.property(rows, (rs) => {
        const single = expandGrants(mapGrants(rs));
        const sets = grantSets(single);
        expect(expandGrants(sets)).toStrictEqual(single);
        expect(sets.map((s) => setKey(s).join('\u0000')).sort(compareText)).toEqual(rs.map((r) => [r.object_kind, r.schema, r.name, r.grantee, r.grantor].join('\u0000')).sort(compareText));
      }),
      { numRuns: 200 },
    );
  });

  test('sets in the order of their first grant; a grant listed twice is one grant', () => {
    const g = (objectKind: CatalogGrant['objectKind'], name: string, grantee: string, privilege: string, column?: string): CatalogGrant => ({
      objectKind,
      schema: 'public',
      name,
      grantee,
      grantor: 'owner',
      privilege,
      grantable: false,
      ...(column === undefined ? {} : { column }),
    });
    expect(
      grantSets([g('table', 'orders', 'bob', 'UPDATE'), g('column', 'customers', 'alice', 'SELECT', 'ssn'), g('table', 'orders', 'bob', 'SELECT'), g('column', 'customers', 'alice', 'SELECT', 'id'), g('column', 'customers', 'alice', 'SELECT', 'ssn')]),
    ).toEqual([
      { objectKind: 'table', schema: 'public', name: 'orders', grantee: 'bob', grantor: 'owner', privileges: [{ privilege: 'SELECT', grantable: false }, { privilege: 'UPDATE', grantable: false }] },
      { objectKind: 'column', schema: 'public', name: 'customers', grantee: 'alice', grantor: 'owner', privileges: [{ privilege: 'SELECT', grantable: false, columns: ['ssn', 'id'] }] },
    ]);
  });
});
