// Plans against a catalog that already holds tenantctl's objects: nothing to do, drift, passwords, foreign roles,
// stale personas and logins the file no longer lists.
import { beforeAll, describe, expect, test } from 'vitest';
import { expandGrants, grantSets } from '../../../src/catalog/grants.js';
import type { CatalogGrant, CatalogState } from '../../../src/catalog/types.js';
import type { DesiredState, Persona } from '../../../src/compile/types.js';
import { scramVerifier } from '../../../src/pg/scram.js';
import { appliedCatalog, catalog, desiredOf, FIXED_SCRAM, planOf, role, SHOP } from '../helpers/catalog.js';

const policies = `policies:
  - name: iso
    type: row_filter
    tables: [customers, orders]
    filter: "org = {user.tenant}"
  - name: mask-ssn
    type: column_mask
    table: customers
    column: ssn
    mask: "'***-**-' || right(ssn, 4)"
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]
`;

const YAML = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
  - name: bob
    tenant: globex
    password: { env: PW }
    access: readwrite
${policies}assignments:
  - { policy: iso, to: all }
  - { policy: mask-ssn, to: all }
  - { policy: hide-cc, to: all }
`;

const BASE = catalog({ registryTenants: ['acme', 'globex'], tables: SHOP });
let desired: DesiredState;
let applied: CatalogState;

beforeAll(async () => {
  desired = await desiredOf(YAML, BASE);
  applied = appliedCatalog(desired, BASE);
});

const personaOf = (d: DesiredState, user: string): Persona => d.personas.find((p) => p.members.includes(user)) as Persona;

describe('a catalog that already matches', () => {
  test('gives zero steps, no notes, no errors', () => {
    expect(desired.personas).toHaveLength(2);
    const result = planOf(desired, applied);
    expect(result.steps.map((s) => s.object)).toEqual([]);
    expect(result.notes).toEqual([]);
    expect(result.errors).toEqual([]);
  });

  test('the owner-side entries of a view ACL are not taken for grants to revoke', () => {
    const p = personaOf(desired, 'alice');
    const ownAcl = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'].map((privilege) => ({
      objectKind: 'table' as const,
      schema: p.schema,
      name: 'customers',
      grantee: p.owner,
      grantor: p.owner,
      privilege,
      grantable: false,
    }));
    const withViews: CatalogState = {
      ...applied,
      tables: [...applied.tables, { schema: p.schema, name: 'customers', kind: 'v', owner: p.owner, rlsEnabled: false, rlsForced: false, columns: [], defaultSequences: [] }],
      grants: [...applied.grants, ...grantSets(ownAcl)],
    };
    expect(planOf(desired, withViews).steps).toEqual([]);
  });

  test('a policy changed outside tenantctl: exactly one replace step, reason drift', () => {
    const p = personaOf(desired, 'alice');
    const drifted: CatalogState = {
      ...applied,
      policies: applied.policies.map((x) => (x.table === 'customers' && x.name === `tenantctl_${p.id}` ? { ...x, using: 'true' } : x)),
    };
    const result = planOf(desired, drifted);
    expect(result.steps).toHaveLength(1);
    const [step] = result.steps;
    expect(step?.action).toBe('replace');
    expect(step?.object).toBe(`policy public.customers tenantctl_${p.id}`);
    expect(step?.reason).toBe('drift: the policy was changed outside tenantctl');
    expect(step?.reason?.startsWith('drift')).toBe(true);
    expect(step?.sql).toEqual([
      `DROP POLICY "tenantctl_${p.id}" ON "public"."customers"`,
      `CREATE POLICY "tenantctl_${p.id}" ON "public"."customers" AS PERMISSIVE FOR SELECT TO "${p.owner}" USING ((org = (SELECT tenantctl.attr('tenant'))))`,
    ]);
  });

  test('a view changed outside tenantctl: one replace step that recreates it with its grant', () => {
    const p = personaOf(desired, 'alice');
    const drifted: CatalogState = {
      ...applied,
      views: applied.views.map((v) => (v.schema === p.schema && v.name === 'customers' ? { ...v, definition: ' SELECT * FROM public.customers;' } : v)),
    };
    const result = planOf(desired, drifted);
    expect(result.steps.map((s) => [s.object, s.action, s.reason])).toEqual([[`view ${p.schema}.customers`, 'replace', 'drift: the view was changed outside tenantctl']]);
    expect(result.steps[0]?.sql[0]).toBe(`DROP VIEW "${p.schema}"."customers"`);
    expect(result.steps[0]?.sql[1]).toBe(`CREATE VIEW "${p.schema}"."customers" AS SELECT "id", "org", "name", ('***-**-' || right(ssn, 4)) AS "ssn" FROM "public"."customers"`);
    expect(result.steps[0]?.sql.at(-1)).toBe(`GRANT SELECT ON "${p.schema}"."customers" TO "${p.reader}"`);
  });

  test('row security switched off outside tenantctl is switched back on', () => {
    const drifted: CatalogState = { ...applied, tables: applied.tables.map((t) => (t.name === 'orders' ? { ...t, rlsForced: false } : t)) };
    expect(planOf(desired, drifted).steps.map((s) => [s.object, s.sql])).toEqual([
      ['row security on public.orders', ['ALTER TABLE "public"."orders" FORCE ROW LEVEL SECURITY']],
    ]);
  });

  test('a missing column grant is granted again; an extra one is revoked', () => {
    const p = personaOf(desired, 'alice');
    const isSsn = (g: CatalogGrant) => g.grantee === p.owner && g.name === 'customers' && g.column === 'ssn';
    const changed: CatalogState = {
      ...applied,
      grants: grantSets([
        ...expandGrants(applied.grants).filter((g) => !isSsn(g)),
        { objectKind: 'column', schema: 'public', name: 'customers', column: 'credit_card', grantee: p.owner, grantor: 'postgres', privilege: 'SELECT', grantable: false },
      ]),
    };
    expect(planOf(desired, changed).steps.map((s) => [s.object, s.action, s.sql])).toEqual([
      [`privileges on public.customers for ${p.owner}`, 'create', [`GRANT SELECT ("ssn") ON TABLE "public"."customers" TO "${p.owner}"`]],
      [`privileges on public.customers for ${p.owner}`, 'drop', [`REVOKE SELECT ("credit_card") ON TABLE "public"."customers" FROM "${p.owner}"`]],
    ]);
  });

  test('direct grants to PUBLIC, to a managed login or group on governed tables, columns and persona views are revoked', () => {
    const p = personaOf(desired, 'alice');
    const g = (schema: string, name: string, grantee: string, privilege: string, column?: string): CatalogGrant => ({
      objectKind: column === undefined ? 'table' : 'column',
      schema,
      name,
      grantee,
      grantor: 'app_owner',
      privilege,
      grantable: false,
      ...(column === undefined ? {} : { column }),
    });
    const changed: CatalogState = {
      ...applied,
      grants: [
        ...applied.grants,
        ...grantSets([
          g('public', 'customers', 'public', 'SELECT'),
          g('public', 'customers', 'alice', 'SELECT', 'credit_card'),
          g('public', 'customers', 'alice', 'SELECT', 'ssn'),
          g(p.schema, 'orders', 'bob', 'SELECT'),
          g('public', 'orders', 'bob', 'UPDATE'),
          // A role tenantctl does not manage, and the owner's own ACL entry: left alone.
          g('public', 'orders', 'reporting', 'SELECT'),
          g('public', 'orders', 'app_owner', 'SELECT'),
        ]),
      ],
    };
    const result = planOf(desired, changed);
    expect(result.steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([
      ['privileges on public.customers for public', 'drop', 'narrows', 'drift: granted outside tenantctl to PUBLIC, who may read only through a persona', ['REVOKE SELECT ON TABLE "public"."customers" FROM PUBLIC']],
      ['privileges on public.customers for alice', 'drop', 'narrows', 'drift: granted outside tenantctl to alice, who may read only through a persona', ['REVOKE SELECT ("credit_card", "ssn") ON TABLE "public"."customers" FROM "alice"']],
      [`privileges on ${p.schema}.orders for bob`, 'drop', 'narrows', 'drift: granted outside tenantctl to bob, who may read only through a persona', [`REVOKE SELECT ON TABLE "${p.schema}"."orders" FROM "bob"`]],
      ['privileges on public.orders for bob', 'drop', 'narrows', 'drift: granted outside tenantctl to bob, who may read only through a persona', ['REVOKE UPDATE ON TABLE "public"."orders" FROM "bob"']],
    ]);
  });

  test('a managed role made SUPERUSER (or given CREATEROLE) is narrowed again', () => {
    const changed: CatalogState = { ...applied, roles: applied.roles.map((r) => (r.name === 'bob' ? { ...r, superuser: true, createRole: true } : r)) };
    expect(planOf(desired, changed).steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([
      ['role bob', 'update', 'narrows', 'drift: the role gained privileges outside tenantctl', ['ALTER ROLE "bob" NOSUPERUSER NOCREATEROLE']],
    ]);
  });

  test('a role that gained privileges outside tenantctl is narrowed again', () => {
    const changed: CatalogState = { ...applied, roles: applied.roles.map((r) => (r.name === 'alice' ? { ...r, bypassRls: true } : r)) };
    expect(planOf(desired, changed).steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([
      ['role alice', 'update', 'narrows', 'drift: the role gained privileges outside tenantctl', ['ALTER ROLE "alice" NOBYPASSRLS']],
    ]);
  });
});

describe('adding a user is online', () => {
  test('a new user of an existing persona: role, membership, search_path, principal row; no policy, view or grant change', async () => {
    const more = await desiredOf(
      YAML.replace('policies:\n', '  - name: carol\n    tenant: globex\npolicies:\n'),
      applied,
    );
    const p = personaOf(more, 'carol');
    expect(p.id).toBe(personaOf(desired, 'alice').id);
    const result = planOf(more, applied);
    expect(result.errors).toEqual([]);
    expect(result.steps.map((s) => [s.object, s.action])).toEqual([
      ['role carol', 'create'],
      [`role ${p.owner}`, 'update'],
      [`role ${p.reader}`, 'update'],
      [`membership carol in ${p.reader}`, 'create'],
      ['search_path of carol', 'create'],
      ['principal carol', 'create'],
    ]);
    // The persona roles only get their comment (the member list) updated.
    expect(result.steps.find((s) => s.object === `role ${p.owner}`)?.sql).toEqual([
      `COMMENT ON ROLE "${p.owner}" IS 'managed by tenantctl: owner of the views in ${p.schema} (policies hide-cc, iso, mask-ssn; read; members alice, carol)'`,
    ]);
  });
});

describe('passwords of existing roles', () => {
  test('a catalog verifier that matches the plaintext: no password change', () => {
    const alice = applied.roles.find((r) => r.name === 'alice');
    expect(alice?.passwordVerifier).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(alice?.passwordVerifier).not.toBe(FIXED_SCRAM);
    const result = planOf(desired, applied);
    expect(result.steps.filter((s) => s.object === 'role alice')).toEqual([]);
    // The record keeps the verifier already there.
    expect(result.records.find((r) => r.object === 'password alice')?.render).toEqual({ kind: 'value', value: alice?.passwordVerifier });
  });

  test('a verifier of another password: ALTER ROLE ... PASSWORD, redacted in display', () => {
    const changed: CatalogState = { ...applied, roles: applied.roles.map((r) => (r.name === 'alice' ? { ...r, passwordVerifier: scramVerifier('old-password') } : r)) };
    const steps = planOf(desired, changed).steps;
    expect(steps.map((s) => [s.object, s.action, s.sql, s.display])).toEqual([
      ['role alice', 'update', [`ALTER ROLE "alice" PASSWORD '${FIXED_SCRAM}'`], [`ALTER ROLE "alice" PASSWORD '<redacted>'`]],
    ]);
  });

  test('an unreadable verifier (not superuser) falls back to the one recorded at the last apply', () => {
    const noVerifier: CatalogState = { ...applied, roles: applied.roles.map((r) => (r.name === 'alice' ? { ...r, passwordVerifier: undefined } : r)) };
    expect(planOf(desired, noVerifier).steps).toEqual([]);
    const noRecord: CatalogState = {
      ...noVerifier,
      runtime: { principals: noVerifier.runtime?.principals ?? [], applied: Object.fromEntries(Object.entries(noVerifier.runtime?.applied ?? {}).filter(([k]) => k !== 'password alice')) },
    };
    expect(planOf(desired, noRecord).steps.map((s) => [s.object, s.display])).toEqual([['role alice', [`ALTER ROLE "alice" PASSWORD '<redacted>'`]]]);
  });
});

describe('roles tenantctl did not create', () => {
  test('a role of the same name without the managed comment: a plan error and no step for it', () => {
    const foreign = catalog({ registryTenants: ['acme', 'globex'], tables: SHOP, roles: [role({ name: 'alice', login: true, comment: 'created by the DBA' })] });
    const result = planOf(desired, foreign);
    expect(result.errors).toEqual([
      'role "alice" already exists and was not created by tenantctl; tenantctl never alters roles it does not manage (rename the user in the file, or drop the role)',
    ]);
    expect(result.steps.filter((s) => /^(role|membership|search_path of) alice\b/.test(s.object))).toEqual([]);
    expect(result.steps.flatMap((s) => s.sql).filter((q) => q.includes('ROLE "alice"') || q.includes('TO "alice"'))).toEqual([]);
    // bob is unaffected.
    expect(result.steps.some((s) => s.object === 'role bob')).toBe(true);
  });

  test('an uncommented role is foreign too', () => {
    const result = planOf(desired, catalog({ registryTenants: ['acme', 'globex'], tables: SHOP, roles: [role({ name: 'bob', login: true })] }));
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]).toMatch(/^role "bob" already exists and was not created by tenantctl/);
    expect(result.steps.some((s) => s.object === 'role bob' || s.object.startsWith('membership bob '))).toBe(false);
  });

  test('membership in a group tenantctl does not manage is a note, not a revoke', () => {
    const changed: CatalogState = {
      ...applied,
      roles: [...applied.roles.map((r) => (r.name === 'alice' ? { ...r, memberOf: [...r.memberOf, 'analysts'] } : r)), role({ name: 'analysts' })],
    };
    const result = planOf(desired, changed);
    expect(result.steps).toEqual([]);
    expect(result.notes).toEqual(['alice is also a member of analysts, which tenantctl does not manage: whatever analysts may read, alice may read too']);
  });
});

describe('what the file no longer wants', () => {
  const ONLY_ALICE = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
${policies}assignments:
  - { policy: iso, to: all }
  - { policy: mask-ssn, to: all }
  - { policy: hide-cc, to: all }
`;

  test("a stale persona: its policies, schema and roles are dropped, after everything else", async () => {
    const now = await desiredOf(ONLY_ALICE, applied);
    const bob = personaOf(desired, 'bob');
    expect(personaOf(now, 'alice').id).toBe(personaOf(desired, 'alice').id);
    const result = planOf(now, applied, { prune: true });
    const drops = result.steps.filter((s) => s.action === 'drop');
    expect(drops.map((s) => [s.object, s.sql])).toEqual([
      ['principal bob', [`DELETE FROM tenantctl.principals WHERE role = 'bob'`]],
      ...['customers', 'orders'].flatMap((t) =>
        ['', '_insert', '_update', '_delete'].map((suffix) => [
          `policy public.${t} tenantctl_${bob.id}${suffix}`,
          [`DROP POLICY "tenantctl_${bob.id}${suffix}" ON "public"."${t}"`],
        ]),
      ),
      [`schema ${bob.schema}`, [`DROP SCHEMA "${bob.schema}" CASCADE`]],
      ['role bob', ['DROP ROLE "bob"']],
      [`role ${bob.owner}`, expect.arrayContaining([`DROP ROLE "${bob.owner}"`])],
      [`role ${bob.reader}`, [`REVOKE USAGE ON SEQUENCE "public"."orders_id_seq" FROM "${bob.reader}"`, `DROP ROLE "${bob.reader}"`]],
    ]);
    // Not DROP OWNED BY (a non-superuser applier may not run it): explicit revokes of what the persona owner
    // holds outside its dropped schema, then DROP ROLE.
    // An object's grants in the order a catalog read lists them (by column, then privilege).
    const ownerSql = drops.find((s) => s.object === `role ${bob.owner}`)?.sql ?? [];
    expect(ownerSql.slice(0, 5)).toEqual([
      `REVOKE USAGE ON SCHEMA "public" FROM "${bob.owner}"`,
      `REVOKE INSERT ("id", "name", "org") ON TABLE "public"."customers" FROM "${bob.owner}"`,
      `REVOKE SELECT ("id", "name", "org", "ssn") ON TABLE "public"."customers" FROM "${bob.owner}"`,
      `REVOKE UPDATE ("id", "name", "org") ON TABLE "public"."customers" FROM "${bob.owner}"`,
      `REVOKE DELETE ON TABLE "public"."customers" FROM "${bob.owner}"`,
    ]);
    expect(ownerSql.every((q, i) => (i === ownerSql.length - 1 ? q === `DROP ROLE "${bob.owner}"` : q.startsWith('REVOKE ') && q.endsWith(` FROM "${bob.owner}"`)))).toBe(true);
    expect(ownerSql.join("\n")).not.toContain(`"${bob.schema}".`);
    expect(ownerSql.join("\n")).not.toContain(`SCHEMA "${bob.schema}"`);
    expect(ownerSql.join('\n')).not.toContain('credit_card');
    expect(result.steps.filter((s) => s.action !== 'drop')).toEqual([]);
    expect(result.steps.every((s, i, all) => i === 0 || (all[i - 1] as typeof s).phase <= s.phase)).toBe(true);
    const dropRoles = result.steps.filter((s) => s.object.startsWith('role '));
    expect(Math.min(...dropRoles.map((s) => s.phase))).toBeGreaterThan(Math.max(...result.steps.filter((s) => s.object.startsWith('policy ')).map((s) => s.phase)));
    expect(result.notes).toEqual([]);
  });

  test('a managed login no longer in the file, without --prune: a note, its persona membership revoked, no DROP ROLE', async () => {
    const now = await desiredOf(ONLY_ALICE, applied);
    const bob = personaOf(desired, 'bob');
    const result = planOf(now, applied, { prune: false });
    expect(result.notes).toEqual([
      'role bob was created by tenantctl but is no longer in the file: it keeps its login but reads no rows; `apply --prune` drops it',
    ]);
    expect(result.steps.some((s) => s.object === 'role bob')).toBe(false);
    expect(result.steps.flatMap((s) => s.sql).filter((q) => q.includes('"bob"'))).toEqual([`REVOKE "${bob.reader}" FROM "bob"`]);
    expect(result.steps.find((s) => s.object === `membership bob in ${bob.reader}`)?.action).toBe('drop');
    // The stale persona roles go either way.
    expect(result.steps.filter((s) => s.object.startsWith('role ')).map((s) => s.object)).toEqual([`role ${bob.owner}`, `role ${bob.reader}`]);
  });

  test('logins and groups tenantctl did not create are left alone, without a note', async () => {
    const cat: CatalogState = { ...applied, roles: [...applied.roles, role({ name: 'dba', login: true }), role({ name: 'analysts' })] };
    const result = planOf(desired, cat, { prune: true });
    expect(result.steps).toEqual([]);
    expect(result.notes).toEqual([]);
  });

  test('a changed mask keeps the persona and replaces its view in place; grants follow', async () => {
    const changed = YAML.replace(`mask: "'***-**-' || right(ssn, 4)"`, `mask: "'[RESTRICTED]'"`);
    const now = await desiredOf(changed, applied);
    const alice = personaOf(desired, 'alice');
    const bob = personaOf(desired, 'bob');
    expect(now.personas.map((p) => p.id).sort()).toEqual([alice.id, bob.id].sort());
    const result = planOf(now, applied);
    expect(result.errors).toEqual([]);
    // Steps of one kind come in persona id order (ids are hashes of the personas' shapes).
    const [first, second] = [alice, bob].sort((x, y) => x.id.localeCompare(y.id));
    expect(result.steps.map((s) => [s.object, s.action, s.reason])).toEqual([
      [`view ${first!.schema}.customers`, 'replace', 'changed in the file'],
      [`view ${second!.schema}.customers`, 'replace', 'changed in the file'],
      [`privileges on public.customers for ${first!.owner}`, 'drop', undefined],
      [`privileges on public.customers for ${second!.owner}`, 'drop', undefined],
    ]);
    expect(result.steps.find((s) => s.object === `view ${alice.schema}.customers`)?.sql.slice(0, 2)).toEqual([
      `DROP VIEW "${alice.schema}"."customers"`,
      `CREATE VIEW "${alice.schema}"."customers" AS SELECT "id", "org", "name", ('[RESTRICTED]') AS "ssn" FROM "public"."customers"`,
    ]);
    // A constant mask reads nothing: the owner loses SELECT on ssn. (bob is readwrite: ssn was never writable.)
    expect(result.steps.find((s) => s.object === `privileges on public.customers for ${alice.owner}`)?.sql).toEqual([
      `REVOKE SELECT ("ssn") ON TABLE "public"."customers" FROM "${alice.owner}"`,
    ]);
    // Applying it converges: the plan after is empty.
    expect(planOf(now, appliedCatalog(now, BASE)).steps).toEqual([]);
  });

  test('a user whose access changes moves to another persona: grant the new reader, revoke the old', async () => {
    const withCarol = (y: string): string => y.replace('policies:\n', '  - name: carol\n    tenant: acme\npolicies:\n');
    const before = await desiredOf(withCarol(YAML), BASE);
    const cat = appliedCatalog(before, BASE);
    const old = personaOf(before, 'alice');
    expect(old.members).toEqual(['alice', 'carol']);
    const now = await desiredOf(withCarol(YAML.replace('  - { policy: hide-cc, to: all }', '  - { policy: hide-cc, to: all, except: [{ user: alice }] }')), cat);
    const fresh = personaOf(now, 'alice');
    expect(personaOf(now, 'carol').id).toBe(old.id);
    expect(fresh.id).not.toBe(old.id);
    expect(fresh.members).toEqual(['alice']);
    const result = planOf(now, cat);
    expect(result.steps.filter((s) => s.object.includes(' alice')).map((s) => [s.object, s.action, s.sql])).toEqual([
      [`membership alice in ${fresh.reader}`, 'create', [`GRANT "${fresh.reader}" TO "alice"`]],
      ['search_path of alice', 'update', [`ALTER ROLE "alice" IN DATABASE "appdb" SET search_path = "${fresh.schema}"`]],
      [`membership alice in ${old.reader}`, 'drop', [`REVOKE "${old.reader}" FROM "alice"`]],
    ]);
    expect(result.steps.filter((s) => s.object.includes(fresh.schema + '.') || s.object === `schema ${fresh.schema}`).map((s) => [s.object, s.action])).toEqual([
      [`schema ${fresh.schema}`, 'create'],
      [`view ${fresh.schema}.customers`, 'create'],
      [`view ${fresh.schema}.orders`, 'create'],
      [`view ${fresh.schema}.products`, 'create'],
    ]);
    // carol still uses the old persona: none of its objects is dropped.
    expect(result.steps.filter((s) => s.action === 'drop' && s.object.includes(old.id) && !s.object.startsWith('membership alice '))).toEqual([]);
  });

  test('a policy on a governed table that tenantctl did not write is drift: dropped, permissive narrows, restrictive widens', () => {
    const cat: CatalogState = {
      ...applied,
      policies: [
        ...applied.policies,
        { schema: 'public', table: 'orders', name: 'legacy', command: 'r', permissive: true, roles: ['public'], using: 'true' },
        { schema: 'public', table: 'customers', name: 'strict', command: '*', permissive: false, roles: ['alice', 'bob'], using: 'false' },
        // Not on a governed table: not ours to judge.
        { schema: 'audit', table: 'log', name: 'other', command: 'r', permissive: true, roles: ['public'], using: 'true' },
      ],
    };
    const result = planOf(desired, cat);
    expect(result.steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([
      ['policy public.orders legacy', 'drop', 'narrows', 'drift: policy not managed by tenantctl (permissive, for public)', ['DROP POLICY "legacy" ON "public"."orders"']],
      ['policy public.customers strict', 'drop', 'widens', 'drift: policy not managed by tenantctl (restrictive, for alice, bob)', ['DROP POLICY "strict" ON "public"."customers"']],
    ]);
    expect(result.notes).toEqual([]);
  });
});
