// PersonaGrants (the persona roles' grants: held against wanted, compared set by set) gives exactly what the
// plan computed before it, when it compared one key string per single grant on both sides.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { expandGrants } from '../../../src/catalog/grants.js';
import { mapGrants, type GrantRow } from '../../../src/catalog/map.js';
import type { CatalogGrant, CatalogGrantSet } from '../../../src/catalog/types.js';
import { PERSONA_PREFIX } from '../../../src/compile/types.js';
import { PersonaGrants, wantedGrant } from '../../../src/plan/grants.js';

type Kind = CatalogGrant['objectKind'];
interface Want {
  kind: Kind;
  schema: string;
  name: string;
  grantee: string;
  privileges: string[];
  columns?: string[];
}

/**
 * The plan's grant comparison as it was written before: the catalog's single grants (expandGrants lists them as
 * the catalog held them) and the wanted ones in a map each, by key.
 */
function reference(catalog: readonly CatalogGrantSet[], personaRoles: ReadonlySet<string>, ownerOf: (g: { schema: string; name: string }) => string | undefined, wants: readonly Want[]) {
  const wantGrants: CatalogGrant[] = [];
  for (const w of wants) {
    if (w.columns === undefined) for (const p of w.privileges) wantGrants.push(wantedGrant(w.kind, w.schema, w.name, w.grantee, p));
    else for (const c of w.columns) for (const p of w.privileges) wantGrants.push(wantedGrant(w.kind, w.schema, w.name, w.grantee, p, c));
  }
  const grantKey = (g: CatalogGrant): string => [g.objectKind, g.schema, g.name, g.column ?? '', g.grantee, g.privilege].join('\u0000');
  const haveGrants = new Map<string, CatalogGrant>();
  for (const g of expandGrants(catalog)) {
    if (!personaRoles.has(g.grantee) && !g.grantee.startsWith(PERSONA_PREFIX)) continue;
    if (g.objectKind !== 'schema' && ownerOf(g) === g.grantee) continue;
    haveGrants.set(grantKey(g), g);
  }
  const wanted = new Map(wantGrants.map((g) => [grantKey(g), g] as const));
  const toGrant = [...wanted].filter(([key]) => !haveGrants.has(key)).map(([, g]) => g);
  const toRevoke = [...haveGrants].filter(([key, g]) => !wanted.has(key) && personaRoles.has(g.grantee)).map(([, g]) => g);
  return { toGrant, toRevoke };
}

/** What the plan's statements use of a grant (its grantor and grantable are the catalog's, of any duplicate). */
const used = (g: CatalogGrant) => [g.objectKind, g.schema, g.name, g.column, g.grantee, g.privilege];

const PERSONA_ROLES = ['tenantctl_a_owner', 'tenantctl_a_reader', 'tenantctl_b_owner'];
// A persona of another file (prefix, not a persona of this plan), a login, PUBLIC.
const GRANTEES = [...PERSONA_ROLES, 'tenantctl_old_owner', 'alice', 'public'];
const PRIVILEGES = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'USAGE', 'CREATE'];
const COLUMNS = ['id', 'org', 'name', 'email'];
const MANY = Array.from({ length: 50 }, (_, i) => `c${i}`);
const KINDS = ['table', 'column', 'schema', 'sequence'] as const;
const SCHEMAS = ['public', 'tenantctl_a'];
const NAMES = ['t1', 't2'];

const row: fc.Arbitrary<GrantRow> = fc
  .record({
    object_kind: fc.constantFrom(...KINDS),
    schema: fc.constantFrom(...SCHEMAS),
    name: fc.constantFrom(...NAMES),
    grantee: fc.constantFrom(...GRANTEES),
    grantor: fc.constantFrom('owner', 'postgres'),
    privileges: fc.uniqueArray(fc.tuple(fc.constantFrom(...PRIVILEGES), fc.boolean(), fc.shuffledSubarray(COLUMNS, { minLength: 1 })), {
      minLength: 1,
      maxLength: 4,
      selector: ([p, g]) => `${p}${g}`,
    }),
  })
  .map((r) => ({ ...r, privileges: r.privileges.map(([p, g, cols]) => (r.object_kind === 'column' ? [p, g, cols] : [p, g])) as GrantRow['privileges'] }));
const rows = fc.uniqueArray(row, { maxLength: 30, selector: (r) => [r.object_kind, r.schema, r.name, r.grantee, r.grantor].join('\u0000') });
const want: fc.Arbitrary<Want> = fc
  .record({
    kind: fc.constantFrom(...KINDS),
    schema: fc.constantFrom(...SCHEMAS),
    name: fc.constantFrom(...NAMES),
    grantee: fc.constantFrom(...PERSONA_ROLES),
    privileges: fc.shuffledSubarray(PRIVILEGES, { maxLength: 4 }),
    columns: fc.shuffledSubarray(COLUMNS),
  })
  .map((w) => (w.kind === 'column' ? w : { kind: w.kind, schema: w.schema, name: w.name, grantee: w.grantee, privileges: w.privileges }));
// Who owns each object: a persona owner (its views), or someone else.
const owners = fc.dictionary(fc.constantFrom(...SCHEMAS.flatMap((s) => NAMES.map((n) => `${s}.${n}`))), fc.constantFrom('tenantctl_a_owner', 'tenantctl_a_reader', 'owner'));

describe('PersonaGrants', () => {
  test('missing and extra grants: the same ones, in the same order, as the key-by-key comparison', () => {
    fc.assert(
      fc.property(rows, fc.array(want, { maxLength: 25 }), owners, fc.boolean(), (rs, wants, own, fromHeld) => {
        const catalog = mapGrants(rs);
        const ownerOf = (g: { schema: string; name: string }) => own[`${g.schema}.${g.name}`];
        const personaRoles = new Set(PERSONA_ROLES);
        // Half the time, want what is held (so that little is missing or extra), then more.
        const all = fromHeld
          ? [
              ...catalog
                .filter((s) => personaRoles.has(s.grantee))
                .flatMap((s) => s.privileges.map((p): Want => ({ kind: s.objectKind, schema: s.schema, name: s.name, grantee: s.grantee, privileges: [p.privilege], ...(p.columns ? { columns: [...p.columns] } : {}) }))),
              ...wants,
            ]
          : wants;
        const grants = new PersonaGrants(catalog, personaRoles, ownerOf);
        for (const w of all) grants.want(w.kind, w.schema, w.name, w.grantee, w.privileges, w.columns);
        const expected = reference(catalog, personaRoles, ownerOf, all);
        expect(grants.missing()).toStrictEqual(expected.toGrant);
        expect(grants.extra().map(used)).toEqual(expected.toRevoke.map(used));
        expect(grants.extra()).toBe(grants.extra());
      }),
      { numRuns: 1000 },
    );
  });

  test('many columns, held from two grantors: the same as the key-by-key comparison', () => {
    fc.assert(
      fc.property(fc.shuffledSubarray(MANY, { minLength: 30 }), fc.shuffledSubarray(MANY, { minLength: 30 }), fc.shuffledSubarray(MANY), (held, wanted, more) => {
        const catalog = mapGrants([
          { object_kind: 'column', schema: 'public', name: 't', grantee: 'tenantctl_a_owner', grantor: 'owner', privileges: [['SELECT', false, held]] },
          { object_kind: 'column', schema: 'public', name: 't', grantee: 'tenantctl_a_owner', grantor: 'postgres', privileges: [['SELECT', false, more]] },
        ]);
        const personaRoles = new Set(['tenantctl_a_owner']);
        const wants: Want[] = [{ kind: 'column', schema: 'public', name: 't', grantee: 'tenantctl_a_owner', privileges: ['SELECT'], columns: wanted }];
        const grants = new PersonaGrants(catalog, personaRoles, () => 'owner');
        for (const w of wants) grants.want(w.kind, w.schema, w.name, w.grantee, w.privileges, w.columns);
        const expected = reference(catalog, personaRoles, () => 'owner', wants);
        expect(grants.missing()).toStrictEqual(expected.toGrant);
        expect(grants.extra().map(used)).toEqual(expected.toRevoke.map(used));
      }),
      { numRuns: 200 },
    );
  });

  test('nothing missing, nothing extra when the file wants exactly what is held, twice over', () => {
    const catalog = mapGrants([
      { object_kind: 'column', schema: 'public', name: 't', grantee: 'tenantctl_a_owner', grantor: 'owner', privileges: [['SELECT', false, ['id', 'org']], ['UPDATE', false, ['org']]] },
      { object_kind: 'column', schema: 'public', name: 't', grantee: 'tenantctl_a_owner', grantor: 'postgres', privileges: [['SELECT', true, ['id']]] },
      { object_kind: 'table', schema: 'tenantctl_a', name: 't', grantee: 'tenantctl_a_reader', grantor: 'tenantctl_a_owner', privileges: [['SELECT', false]] },
      // The view owner's own ACL entry: not a grant.
      { object_kind: 'table', schema: 'tenantctl_a', name: 't', grantee: 'tenantctl_a_owner', grantor: 'tenantctl_a_owner', privileges: [['DELETE', false], ['SELECT', false]] },
    ]);
    const grants = new PersonaGrants(catalog, new Set(['tenantctl_a_owner', 'tenantctl_a_reader']), (g) => (g.schema === 'tenantctl_a' ? 'tenantctl_a_owner' : 'owner'));
    for (let i = 0; i < 2; i++) {
      grants.want('column', 'public', 't', 'tenantctl_a_owner', ['SELECT'], ['id', 'org']);
      grants.want('column', 'public', 't', 'tenantctl_a_owner', ['UPDATE'], ['org']);
      grants.want('table', 'tenantctl_a', 't', 'tenantctl_a_reader', ['SELECT']);
    }
    expect(grants.missing()).toEqual([]);
    expect(grants.extra()).toEqual([]);
  });

  test('column by column, each column privilege by privilege; each missing grant once', () => {
    const grants = new PersonaGrants([], new Set(['o']), () => undefined);
    grants.want('column', 'public', 't', 'o', ['INSERT', 'UPDATE'], ['b', 'a']);
    grants.want('column', 'public', 't', 'o', ['UPDATE'], ['a', 'c']);
    expect(grants.missing().map((g) => `${g.privilege} ${g.column}`)).toEqual(['INSERT b', 'UPDATE b', 'INSERT a', 'UPDATE a', 'UPDATE c']);
  });
});
