// Templates, personas, roles, principals rows and passwords as compile produces them.
import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/compile.js';
import type { DesiredRole, Persona } from '../../../src/compile/types.js';
import { COMPILE_OPTIONS, catalog, desiredOf, model, shop, SHOP } from '../helpers/catalog.js';

describe('templates', () => {
  const cat = catalog({ registryTenants: ['acme'], tables: { docs: ['id', 'org', 'tenant_id', 'team', 'level', 'public', 'author'] } });
  const rowsOf = async (filter: string): Promise<string | undefined> => {
    const desired = await desiredOf(
      `version: 1
users:
  - name: alice
    tenant: acme
    attributes: { clearance: 2, teams: [a, b], region: eu, staff: true }
policies:
  - name: f
    type: row_filter
    tables: [docs]
    filter: ${JSON.stringify(filter)}
assignments:
  - { policy: f, to: all }
`,
      cat,
    );
    return (desired.personas[0] as Persona).tables[0]?.rows;
  };

  test('{user.tenant_id} is a uuid lookup, once per statement', async () => {
    expect(await rowsOf('tenant_id = {user.tenant_id}')).toBe("(SELECT tenantctl.visible()) AND (tenant_id = (SELECT tenantctl.attr('tenant_id')::uuid))");
  });

  test('{user.tenant} and {user.name} and a string attribute are text (no cast)', async () => {
    expect(await rowsOf('org = {user.tenant} AND author = {user.name} AND team = {user.region}')).toBe(
      "(org = (SELECT tenantctl.attr('tenant')) AND author = (SELECT tenantctl.attr('name')) AND team = (SELECT tenantctl.attr('region')))",
    );
  });

  test('a list attribute is text[]', async () => {
    expect(await rowsOf('team = ANY({user.teams})')).toBe("(SELECT tenantctl.visible()) AND (team = ANY((SELECT tenantctl.attr('teams'))::text[]))");
  });

  test('an integer attribute is bigint, a boolean attribute boolean', async () => {
    expect(await rowsOf('level <= {user.clearance} OR (public AND {user.staff})')).toBe(
      "(SELECT tenantctl.visible()) AND (level <= (SELECT tenantctl.attr('clearance')::bigint) OR (public AND (SELECT tenantctl.attr('staff')::boolean)))",
    );
  });

  test('a template in a mask compiles the same way', async () => {
    const desired = await desiredOf(
      `version: 1
users:
  - name: alice
    tenant: acme
policies:
  - name: m
    type: column_mask
    table: customers
    column: ssn
    mask: "CASE WHEN org = {user.tenant} THEN ssn ELSE NULL END"
assignments:
  - { policy: m, to: all }
`,
    );
    const ssn = desired.personas[0]?.tables.find((t) => t.table.name === 'customers')?.columns.find((c) => c.name === 'ssn');
    expect(ssn).toEqual({ name: 'ssn', mask: "CASE WHEN org = (SELECT tenantctl.attr('tenant')) THEN ssn ELSE NULL END" });
  });
});

const TWO_POLICIES = `policies:
  - name: iso
    type: row_filter
    tables: [customers, orders]
    filter: "org = {user.tenant}"
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]
assignments:
  - { policy: iso, to: all }
  - { policy: hide-cc, to: all, except: [{ user: carol }] }
`;

describe('personas', () => {
  const yaml = `version: 1
users:
  - name: bob
    tenant: globex
  - name: alice
    tenant: acme
  - name: carol
    tenant: acme
apps:
  - name: storefront
    context: { tenant: app.current_tenant }
${TWO_POLICIES}`;

  test('equal access shares one persona (whatever the tenant); different access gets another', async () => {
    const desired = await desiredOf(yaml);
    expect(desired.personas).toHaveLength(2);
    const shared = desired.personas.find((p) => p.members.includes('alice')) as Persona;
    const carols = desired.personas.find((p) => p.members.includes('carol')) as Persona;
    expect(shared.members).toEqual(['alice', 'bob', 'storefront']);
    expect(carols.members).toEqual(['carol']);
    expect(shared.id).not.toBe(carols.id);
    expect(shared.id).toMatch(/^[0-9a-f]{10}$/);
    expect(shared.schema).toBe(`tenantctl_${shared.id}`);
    expect(shared.owner).toBe(`tenantctl_${shared.id}_owner`);
    expect(shared.reader).toBe(`tenantctl_${shared.id}_reader`);
    expect(shared.policies).toEqual(['hide-cc', 'iso']);
    expect(carols.policies).toEqual(['iso']);
    expect(carols.tables.find((t) => t.table.name === 'customers')?.columns.map((c) => c.name)).toEqual(['id', 'org', 'name', 'ssn', 'credit_card']);
  });

  test('principals reached by different assignments with the same effect share a persona, which names every policy', async () => {
    // bob's extra column_allow of every column changes nothing he sees: same shape, same persona as alice and
    // carol, reached through another assignment list (and storefront's, an app's, is another list again).
    const desired = await desiredOf(`version: 1
users:
  - name: alice
    tenant: acme
  - name: bob
    tenant: globex
  - name: carol
    tenant: acme
apps:
  - name: storefront
    context: { tenant: app.current_tenant }
policies:
  - name: iso
    type: row_filter
    tables: [customers, orders]
    filter: "org = {user.tenant}"
  - name: all-columns
    type: column_allow
    tables: [customers, orders]
assignments:
  - { policy: iso, to: all }
  - { policy: all-columns, to: { user: bob } }
`);
    expect(desired.personas).toHaveLength(1);
    expect(desired.personas[0]?.members).toEqual(['alice', 'bob', 'carol', 'storefront']);
    expect(desired.personas[0]?.policies).toEqual(['all-columns', 'iso']);
  });

  test('the persona id is stable for the same input and changes with the database name', async () => {
    const m = await model(yaml);
    const ids = (database: string): string[] => (compile(m, shop({ database }), COMPILE_OPTIONS).desired?.personas ?? []).map((p) => p.id).sort();
    expect(ids('appdb')).toEqual(ids('appdb'));
    expect(ids('appdb')).toHaveLength(2);
    const other = ids('otherdb');
    expect(other).toHaveLength(2);
    for (const id of other) expect(ids('appdb')).not.toContain(id);
  });

  test('roles: groups, persona owner and reader, and logins in the persona reader and their groups', async () => {
    const desired = await desiredOf(`version: 1
roles:
  - name: support
    description: Support staff
users:
  - name: alice
    tenant: acme
    roles: [support]
    connection_limit: 20
apps:
  - name: storefront
    context: { tenant: app.current_tenant }
${TWO_POLICIES}`);
    const p = desired.personas[0] as Persona;
    const byName = new Map(desired.roles.map((r) => [r.name, r] as const));
    expect(desired.roles.map((r) => r.name)).toEqual(['alice', 'storefront', 'support', p.owner, p.reader].sort((a, b) => a.localeCompare(b)));
    expect(byName.get('support')).toEqual<DesiredRole>({
      name: 'support',
      kind: 'group',
      login: false,
      connectionLimit: -1,
      memberOf: [],
      comment: 'managed by tenantctl: role — Support staff',
    });
    expect(byName.get('alice')).toEqual<DesiredRole>({
      name: 'alice',
      kind: 'user',
      login: true,
      connectionLimit: 20,
      memberOf: [p.reader, 'support'].sort(),
      searchPath: `"${p.schema}"`,
      comment: 'managed by tenantctl: user of tenant acme',
    });
    expect(byName.get('storefront')).toEqual<DesiredRole>({
      name: 'storefront',
      kind: 'app',
      login: true,
      connectionLimit: -1,
      memberOf: [p.reader],
      searchPath: `"${p.schema}"`,
      comment: 'managed by tenantctl: app',
    });
    expect(byName.get(p.owner)).toMatchObject({ kind: 'persona-owner', login: false, memberOf: [] });
    expect(byName.get(p.reader)).toMatchObject({ kind: 'persona-reader', login: false, memberOf: [] });
    expect(byName.get(p.owner)?.comment).toBe(`managed by tenantctl: owner of the views in ${p.schema} (policies hide-cc, iso; read; members alice, storefront)`);
  });

  test('principals rows: users carry tenant and typed attributes, apps their context', async () => {
    const desired = await desiredOf(`version: 1
users:
  - name: alice
    tenant: acme
    attributes: { clearance: 2, teams: [a, b] }
apps:
  - name: storefront
    context:
      tenant: app.current_tenant
      tenant_id: { setting: app.current_tenant_id, type: uuid }
${TWO_POLICIES}`);
    expect(desired.principals).toEqual([
      { role: 'alice', kind: 'user', tenant: 'acme', attributes: { clearance: 2, teams: ['a', 'b'] }, context: {} },
      {
        role: 'storefront',
        kind: 'app',
        tenant: null,
        attributes: {},
        context: { tenant: { setting: 'app.current_tenant', type: 'text' }, tenant_id: { setting: 'app.current_tenant_id', type: 'uuid' } },
      },
    ]);
  });

  test('runtime SQL gets the quoted registry schema and its hash', async () => {
    const desired = await desiredOf(`version: 1\nusers:\n  - name: alice\n    tenant: acme\n${TWO_POLICIES}`);
    expect(desired.registrySchema).toBe('tenant_registry');
    expect(desired.runtime.sql).toBe('SELECT 1 -- "tenant_registry"');
    expect(desired.runtime.hash).toBe('3d3d0ea66995b0a1926f91480d250f10b7b9304cfa0ca611469447ed0b198ea1');
    expect(desired.schemas).toEqual(['public']);
  });
});

describe('passwords', () => {
  const VERIFIER = 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5';
  const yaml = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
  - name: bob
    tenant: acme
    password: { value: "demo-only" }
  - name: carol
    tenant: acme
    password: { scram: "${VERIFIER}" }
  - name: dave
    tenant: acme
${TWO_POLICIES}`;

  test('env and value become plaintext wishes, a scram verifier passes through, no password: none', async () => {
    const desired = await desiredOf(yaml);
    const pw = (name: string) => desired.roles.find((r) => r.name === name)?.password;
    expect(pw('alice')).toEqual({ kind: 'plaintext', plaintext: 'secret-pw' });
    expect(pw('bob')).toEqual({ kind: 'plaintext', plaintext: 'demo-only' });
    expect(pw('carol')).toEqual({ kind: 'verifier', verifier: VERIFIER });
    expect(desired.roles.find((r) => r.name === 'dave')).toBeDefined();
    expect(pw('dave')).toBeUndefined();
  });

  test('an empty environment variable counts as unset', async () => {
    const result = compile(await model(yaml), shop(), { ...COMPILE_OPTIONS, env: { PW: '' } });
    expect(result.desired).toBeUndefined();
    expect(result.errors.map((e) => e.message)).toEqual(['environment variable PW is not set (password of alice)']);
  });
});

describe('catalog defaults', () => {
  test('the builder fills sensible defaults', () => {
    const cat = catalog({ tables: { customers: ['id', 'org'] } });
    expect(cat.database).toBe('appdb');
    expect(cat.runtime).toBeUndefined();
    expect(cat.registry).toBeUndefined();
    expect(cat.schemas).toEqual([{ name: 'public', owner: 'app_owner' }]);
    expect(cat.tables).toEqual([
      {
        schema: 'public',
        name: 'customers',
        kind: 'r',
        owner: 'app_owner',
        rlsEnabled: false,
        rlsForced: false,
        columns: [
          { name: 'id', type: 'text', notNull: false, hasDefault: false, identity: false, generated: false, attnum: 1 },
          { name: 'org', type: 'text', notNull: false, hasDefault: false, identity: false, generated: false, attnum: 2 },
        ],
        defaultSequences: [],
      },
    ]);
    expect(shop().registry?.tenants.map((t) => t.slug)).toEqual(['acme', 'globex']);
    expect(Object.keys(SHOP)).toEqual(['customers', 'orders', 'products']);
  });
});
