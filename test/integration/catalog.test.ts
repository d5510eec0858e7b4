// readCatalog against a real server: the demo_ecommerce fixture plus partitions, RLS, policies, a persona view,
// roles with settings and memberships, column/schema/sequence grants, tenantctl's runtime and the registry.
// Asserts exact CatalogState parts, a constant number of queries (7 tables vs 207), deterministic reads, and the
// absent runtime/registry, a registry schema that needs quoting and a non-superuser reader.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapGrants, mapRegistry, mapRoles, mapTables, type GrantRow, type RoleRow, type TableRow } from '../../src/catalog/map.js';
import { expandGrants } from '../../src/catalog/grants.js';
import { arrayLiteral, readCatalog } from '../../src/catalog/read.js';
import type { CatalogColumn, CatalogGrant, CatalogState } from '../../src/catalog/types.js';
import { ident } from '../../src/pg/quote.js';
import { parseRuntimeState } from '../../src/plan/runtime.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';

const FIXTURE = readFileSync(new URL('../../fixtures/demo_ecommerce/schema.sql', import.meta.url), 'utf8');
const REGISTRY_UP = readFileSync(new URL('../../migrations/000001_tenant_registry.up.sql', import.meta.url), 'utf8');
const RUNTIME = readFileSync(new URL('../../sql/runtime.sql', import.meta.url), 'utf8');
const FIXTURE_TABLES = ['customers', 'order_items', 'orders', 'organizations', 'payments', 'products', 'support_tickets'];

/** The registry migration run by hand into `schema`, with golang-migrate's bookkeeping at version 1. */
async function installRegistry(sql: postgres.Sql, schema: string): Promise<void> {
  const s = ident(schema);
  await sql.unsafe(`CREATE SCHEMA ${s}; SET search_path TO ${s}; ${REGISTRY_UP}; RESET search_path;
    CREATE TABLE ${s}.schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL);
    INSERT INTO ${s}.schema_migrations (version, dirty) VALUES (1, false);`);
}

async function installRuntime(sql: postgres.Sql, registrySchema: string): Promise<void> {
  await sql.unsafe(RUNTIME.replaceAll(':registry', ident(registrySchema)));
}

/** A connection whose debug hook counts the queries it sends (after a warm-up query). */
async function counting(url: string): Promise<{ sql: postgres.Sql; count: () => number; reset: () => void }> {
  let n = 0;
  const sql = postgres(url, { max: 1, onnotice: () => {}, debug: () => void n++ });
  await sql`SELECT 1`;
  n = 0;
  return { sql, count: () => n, reset: () => void (n = 0) };
}

type ColumnFlags = Partial<Pick<CatalogColumn, 'notNull' | 'hasDefault' | 'identity' | 'generated'>>;
function col(attnum: number, name: string, type: string, flags: ColumnFlags = {}): CatalogColumn {
  return { name, type, notNull: false, hasDefault: false, identity: false, generated: false, attnum, ...flags };
}

/** Table privileges an owner holds once an ACL is explicit (PostgreSQL 17 added MAINTAIN). */
function ownerTablePrivileges(versionNum: number): string[] {
  return ['DELETE', 'INSERT', ...(versionNum >= 170000 ? ['MAINTAIN'] : []), 'REFERENCES', 'SELECT', 'TRIGGER', 'TRUNCATE', 'UPDATE'];
}

function grants(objectKind: CatalogGrant['objectKind'], schema: string, name: string, grantee: string, grantor: string, privileges: string[], extra: Partial<CatalogGrant> = {}): CatalogGrant[] {
  return privileges.map((privilege) => ({ objectKind, schema, name, grantee, grantor, privilege, grantable: false, ...extra }));
}

describe('readCatalog: the demo fixture with partitions, RLS, personas, grants, runtime and registry', () => {
  let db: TestDatabase;
  let state: CatalogState;
  let su: string;
  const p = `cat${randomBytes(3).toString('hex')}_`;
  const role = { viewer: `${p}viewer`, reader: `${p}reader`, group: `${p}group`, alice: `${p}alice`, app: `${p}app` };
  const TENANT_ACME = '00000000-0000-4000-8000-00000000000a';
  const TENANT_GLOBEX = '00000000-0000-4000-8000-00000000000b';

  beforeAll(async () => {
    db = await freshDatabase('cat');
    const sql = db.sql;
    su = (await sql<{ u: string }[]>`SELECT current_user::text AS u`)[0]!.u;
    await sql.unsafe(FIXTURE);
    await installRegistry(sql, 'tenant_registry');
    await installRuntime(sql, 'tenant_registry');
    const v = ident(role.viewer), r = ident(role.reader), g = ident(role.group), a = ident(role.alice), app = ident(role.app);
    await sql.unsafe(`
      CREATE ROLE ${g} NOLOGIN;
      CREATE ROLE ${v} NOLOGIN;
      CREATE ROLE ${r} NOLOGIN IN ROLE ${g};
      CREATE ROLE ${a} LOGIN PASSWORD 'alice-secret' CONNECTION LIMIT 5 IN ROLE ${r};
      CREATE ROLE ${app} LOGIN NOINHERIT;
      GRANT ${v} TO ${app};
      ALTER ROLE ${a} SET search_path = tenantctl_support;
      ALTER ROLE ${a} IN DATABASE ${ident(db.name)} SET statement_timeout = '5s';
      ALTER ROLE ${a} IN DATABASE postgres SET work_mem = '1MB';
      COMMENT ON ROLE ${a} IS 'Alice at Acme';

      -- A partitioned table with a serial default, an identity and a generated column, a dropped column, and
      -- two partitions: one in the governed schema, one elsewhere (its parent is governed, so it counts).
      CREATE SCHEMA archive;
      CREATE TABLE archive.ungoverned (id int);
      CREATE TABLE events (
        id bigserial, org text NOT NULL, at timestamptz NOT NULL, payload jsonb,
        n int GENERATED ALWAYS AS IDENTITY, doubled bigint GENERATED ALWAYS AS (id * 2) STORED
      ) PARTITION BY RANGE (at);
      CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
      CREATE TABLE archive.events_2023 PARTITION OF events FOR VALUES FROM ('2023-01-01') TO ('2024-01-01');
      ALTER TABLE events DROP COLUMN payload;
      COMMENT ON TABLE events IS 'append-only';

      -- A plain serial table whose sequence readers need.
      CREATE TABLE notes (id serial PRIMARY KEY, org text NOT NULL, body text);
      GRANT USAGE ON SEQUENCE notes_id_seq TO ${r};

      ALTER TABLE customers ENABLE ROW LEVEL SECURITY;
      ALTER TABLE customers FORCE ROW LEVEL SECURITY;
      COMMENT ON TABLE customers IS 'people who buy';
      CREATE POLICY tenant_rows ON customers TO ${v}
        USING (org = (SELECT tenantctl.attr('tenant'))) WITH CHECK (org = (SELECT tenantctl.attr('tenant')));
      CREATE POLICY known_org ON customers AS RESTRICTIVE FOR SELECT TO PUBLIC
        USING (EXISTS (SELECT 1 FROM organizations o WHERE o.name = customers.org));
      ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
      CREATE POLICY own_orders ON orders FOR UPDATE TO ${v}, ${app} USING (org = (SELECT tenantctl.attr('tenant')));

      GRANT SELECT (id, org, first_name) ON customers TO ${v};
      GRANT UPDATE (first_name) ON customers TO ${v} WITH GRANT OPTION;

      -- A persona schema with a barrier view owned by the view owner.
      CREATE SCHEMA tenantctl_support;
      COMMENT ON SCHEMA tenantctl_support IS 'persona: support';
      CREATE VIEW tenantctl_support.customers WITH (security_barrier) AS SELECT id, org, first_name FROM public.customers;
      ALTER VIEW tenantctl_support.customers OWNER TO ${v};
      COMMENT ON VIEW tenantctl_support.customers IS 'masked customers';
      GRANT USAGE ON SCHEMA tenantctl_support TO ${r};
      GRANT SELECT ON tenantctl_support.customers TO ${r};

      INSERT INTO tenant_registry.tenants (id, slug, name, status) VALUES
        ('${TENANT_GLOBEX}', 'globex', 'Globex', 'frozen'), ('${TENANT_ACME}', 'acme', 'Acme', 'active');
      INSERT INTO tenantctl.applied (object, desired, rendered) VALUES ('runtime', 'h-runtime', 'r-runtime'), ('policy:public.customers', 'h1', 'r1');
    `);
    await sql`INSERT INTO tenantctl.principals (role, kind, tenant, attributes) VALUES
      (${role.alice}, 'user', 'acme', ${sql.json({ region: 'eu', level: 3, teams: ['a', 'b'] })})`;
    await sql`INSERT INTO tenantctl.principals (role, kind, context) VALUES
      (${role.app}, 'app', ${sql.json({ tenant: { setting: 'app.tenant', type: 'text' } })})`;
    state = await readCatalog(sql, { schemas: ['public'], registrySchema: 'tenant_registry' });
  });

  afterAll(async () => {
    const all = Object.values(role).map(ident).join(', ');
    await db.sql.unsafe(`DROP OWNED BY ${all}; DROP ROLE ${all}`);
    await db.drop();
  });

  it('reads the server version, database and current user', async () => {
    const [row] = await db.sql<{ v: string }[]>`SELECT current_setting('server_version_num') AS v`;
    expect(state.serverVersionNum).toBe(Number(row!.v));
    expect(state.database).toBe(db.name);
    expect(state.currentUser).toBe(su);
  });

  it('reads tables of the governed and persona schemas and partitions of governed tables, nothing else', () => {
    expect(state.tables.map((t) => [t.schema, t.name, t.kind])).toEqual([
      ['archive', 'events_2023', 'r'],
      ...['customers', 'events', 'events_2024', 'notes', 'order_items', 'orders', 'organizations', 'payments', 'products', 'support_tickets'].map(
        (n) => ['public', n, n === 'events' ? 'p' : 'r'],
      ),
      ['tenantctl_support', 'customers', 'v'],
    ]);
    const find = (schema: string, name: string) => state.tables.find((t) => t.schema === schema && t.name === name);

    expect(find('public', 'organizations')).toEqual({
      schema: 'public', name: 'organizations', kind: 'r', owner: su, rlsEnabled: false, rlsForced: false,
      columns: [col(1, 'name', 'text', { notNull: true }), col(2, 'created_at', 'timestamp with time zone', { notNull: true, hasDefault: true })],
      defaultSequences: [],
    });
    expect(find('public', 'customers')).toEqual({
      schema: 'public', name: 'customers', kind: 'r', owner: su, rlsEnabled: true, rlsForced: true, comment: 'people who buy',
      columns: [
        col(1, 'id', 'uuid', { notNull: true, hasDefault: true }),
        col(2, 'org', 'text', { notNull: true }),
        col(3, 'first_name', 'text', { notNull: true }),
        col(4, 'last_name', 'text', { notNull: true }),
        col(5, 'email', 'text', { notNull: true }),
        col(6, 'phone', 'text'),
        col(7, 'ssn', 'text'),
        col(8, 'credit_card', 'text'),
        col(9, 'created_at', 'timestamp with time zone', { notNull: true, hasDefault: true }),
      ],
      defaultSequences: [],
    });
    expect(find('public', 'products')?.columns.find((c) => c.name === 'price')).toEqual(col(5, 'price', 'numeric(10,2)', { notNull: true }));
    expect(find('public', 'orders')).toMatchObject({ rlsEnabled: true, rlsForced: false });

    // attnum 4 (payload) was dropped and is left out; attnums keep their gap.
    const eventColumns = (identity: boolean) => [
      col(1, 'id', 'bigint', { notNull: true, hasDefault: true }),
      col(2, 'org', 'text', { notNull: true }),
      col(3, 'at', 'timestamp with time zone', { notNull: true }),
      col(5, 'n', 'integer', { notNull: true, identity }),
      col(6, 'doubled', 'bigint', { hasDefault: true, generated: true }),
    ];
    expect(find('public', 'events')).toEqual({
      schema: 'public', name: 'events', kind: 'p', owner: su, rlsEnabled: false, rlsForced: false, comment: 'append-only',
      columns: eventColumns(true), defaultSequences: ['public.events_id_seq'],
    });
    // On PostgreSQL 15 a partition carries the parent's defaults but not its identity (17 copies it).
    const partitionIdentity = state.serverVersionNum >= 170000;
    expect(find('public', 'events_2024')).toEqual({
      schema: 'public', name: 'events_2024', kind: 'r', owner: su, rlsEnabled: false, rlsForced: false,
      partitionOf: { schema: 'public', name: 'events' }, columns: eventColumns(partitionIdentity), defaultSequences: ['public.events_id_seq'],
    });
    expect(find('archive', 'events_2023')).toMatchObject({ partitionOf: { schema: 'public', name: 'events' }, defaultSequences: ['public.events_id_seq'] });
    expect(find('public', 'notes')).toEqual({
      schema: 'public', name: 'notes', kind: 'r', owner: su, rlsEnabled: false, rlsForced: false,
      columns: [col(1, 'id', 'integer', { notNull: true, hasDefault: true }), col(2, 'org', 'text', { notNull: true }), col(3, 'body', 'text')],
      defaultSequences: ['public.notes_id_seq'],
    });
    expect(find('tenantctl_support', 'customers')).toEqual({
      schema: 'tenantctl_support', name: 'customers', kind: 'v', owner: role.viewer, rlsEnabled: false, rlsForced: false, comment: 'masked customers',
      columns: [col(1, 'id', 'uuid'), col(2, 'org', 'text'), col(3, 'first_name', 'text')],
      defaultSequences: [],
    });
  });

  it('reads roles with direct memberships, settings for this database, limits and comments; no pg_ roles', () => {
    expect(state.roles.some((r) => r.name.startsWith('pg_'))).toBe(false);
    const mine = state.roles.filter((r) => r.name.startsWith(p));
    const alice = mine.find((r) => r.name === role.alice)!;
    // The verifier is checked without printing it.
    expect(alice.passwordVerifier?.startsWith('SCRAM-SHA-256$')).toBe(true);
    expect(state.roles.find((r) => r.name === su)).toMatchObject({ superuser: true, bypassRls: true, login: true });
    const base = { login: false, superuser: false, bypassRls: false, createRole: false, inherit: true, connectionLimit: -1, memberOf: [], settings: [] };
    expect(mine.map(({ passwordVerifier: _pw, ...rest }) => rest)).toEqual([
      {
        ...base, name: role.alice, login: true, connectionLimit: 5, comment: 'Alice at Acme',
        memberOf: [role.reader], settings: ['search_path=tenantctl_support', 'statement_timeout=5s'],
      },
      { ...base, name: role.app, login: true, inherit: false, memberOf: [role.viewer] },
      { ...base, name: role.group },
      { ...base, name: role.reader, memberOf: [role.group] },
      { ...base, name: role.viewer },
    ]);
    expect(mine.filter((r) => r.passwordVerifier !== undefined).map((r) => r.name)).toEqual([role.alice]);
  });

  it('reads policies on governed tables (not tenantctl.principals), with roles, commands and expressions', () => {
    expect(state.policies).toEqual([
      {
        schema: 'public', table: 'customers', name: 'known_org', command: 'r', permissive: false, roles: ['public'],
        using: '(EXISTS ( SELECT 1\n   FROM organizations o\n  WHERE (o.name = customers.org)))',
      },
      {
        schema: 'public', table: 'customers', name: 'tenant_rows', command: '*', permissive: true, roles: [role.viewer],
        using: "(org = ( SELECT tenantctl.attr('tenant'::text) AS attr))",
        withCheck: "(org = ( SELECT tenantctl.attr('tenant'::text) AS attr))",
      },
      {
        schema: 'public', table: 'orders', name: 'own_orders', command: 'w', permissive: true, roles: [role.app, role.viewer],
        using: "(org = ( SELECT tenantctl.attr('tenant'::text) AS attr))",
      },
    ]);
  });

  it('reads views of the governed and persona schemas with definition, options, columns and comment', () => {
    expect(state.views).toEqual([
      {
        schema: 'tenantctl_support', name: 'customers', owner: role.viewer,
        // PostgreSQL 16 stopped qualifying the columns of a single-table view: the rendering is the server's.
        definition:
          state.serverVersionNum >= 160000
            ? ' SELECT id,\n    org,\n    first_name\n   FROM customers;'
            : ' SELECT customers.id,\n    customers.org,\n    customers.first_name\n   FROM customers;',
        options: ['security_barrier=true'], columns: ['id', 'org', 'first_name'], comment: 'masked customers',
      },
    ]);
  });

  it('reads the governed, persona, runtime and registry schemas', () => {
    expect(state.schemas).toEqual([
      { name: 'public', owner: 'pg_database_owner', comment: 'standard public schema' },
      { name: 'tenant_registry', owner: su },
      { name: 'tenantctl', owner: su, comment: 'managed by tenantctl: runtime (principals, attribute lookup, last apply)' },
      { name: 'tenantctl_support', owner: su, comment: 'persona: support' },
    ]);
  });

  it('reads explicit table, sequence, column and schema ACLs, sorted; PUBLIC as public; defaults not synthesized', () => {
    const own = ownerTablePrivileges(state.serverVersionNum);
    // Held as sets, one per object, grantee and grantor; listed one by one in the order of the old single grants.
    expect(state.grants.map((g) => [g.objectKind, g.schema, g.name, g.grantee, g.grantor])).toEqual([
      ['column', 'public', 'customers', role.viewer, su],
      ['schema', 'public', 'public', 'pg_database_owner', 'pg_database_owner'],
      ['schema', 'public', 'public', 'public', 'pg_database_owner'],
      ['schema', 'tenantctl', 'tenantctl', su, su],
      ['schema', 'tenantctl', 'tenantctl', 'public', su],
      ['schema', 'tenantctl_support', 'tenantctl_support', role.reader, su],
      ['schema', 'tenantctl_support', 'tenantctl_support', su, su],
      ['sequence', 'public', 'notes_id_seq', role.reader, su],
      ['sequence', 'public', 'notes_id_seq', su, su],
      ['table', 'tenantctl', 'applied', su, su],
      ['table', 'tenantctl', 'converged', su, su],
      ['table', 'tenantctl', 'principals', su, su],
      ['table', 'tenantctl', 'principals', 'public', su],
      ['table', 'tenantctl_support', 'customers', role.reader, role.viewer],
      ['table', 'tenantctl_support', 'customers', role.viewer, role.viewer],
    ]);
    expect(state.grants[0]?.privileges).toEqual([
      { privilege: 'SELECT', grantable: false, columns: ['id', 'org', 'first_name'] },
      { privilege: 'UPDATE', grantable: true, columns: ['first_name'] },
    ]);
    expect(expandGrants(state.grants)).toEqual([
      ...grants('column', 'public', 'customers', role.viewer, su, ['SELECT'], { column: 'first_name' }),
      ...grants('column', 'public', 'customers', role.viewer, su, ['UPDATE'], { column: 'first_name', grantable: true }),
      ...grants('column', 'public', 'customers', role.viewer, su, ['SELECT'], { column: 'id' }),
      ...grants('column', 'public', 'customers', role.viewer, su, ['SELECT'], { column: 'org' }),
      // PostgreSQL 15 creates public with an explicit ACL owned by pg_database_owner.
      ...grants('schema', 'public', 'public', 'pg_database_owner', 'pg_database_owner', ['CREATE', 'USAGE']),
      ...grants('schema', 'public', 'public', 'public', 'pg_database_owner', ['USAGE']),
      ...grants('schema', 'tenantctl', 'tenantctl', su, su, ['CREATE', 'USAGE']),
      ...grants('schema', 'tenantctl', 'tenantctl', 'public', su, ['USAGE']),
      ...grants('schema', 'tenantctl_support', 'tenantctl_support', role.reader, su, ['USAGE']),
      ...grants('schema', 'tenantctl_support', 'tenantctl_support', su, su, ['CREATE', 'USAGE']),
      ...grants('sequence', 'public', 'notes_id_seq', role.reader, su, ['USAGE']),
      ...grants('sequence', 'public', 'notes_id_seq', su, su, ['SELECT', 'UPDATE', 'USAGE']),
      ...grants('table', 'tenantctl', 'applied', su, su, own),
      ...grants('table', 'tenantctl', 'converged', su, su, own),
      ...grants('table', 'tenantctl', 'principals', su, su, own),
      ...grants('table', 'tenantctl', 'principals', 'public', su, ['SELECT']),
      // A superuser's GRANT is recorded as granted by the owner.
      ...grants('table', 'tenantctl_support', 'customers', role.reader, role.viewer, ['SELECT']),
      ...grants('table', 'tenantctl_support', 'customers', role.viewer, role.viewer, own),
    ]);
  });

  it('reads the runtime principals and the last apply, keyed by object', () => {
    const { state: runtimeState, ...runtime } = state.runtime!;
    expect(runtime).toEqual({
      principals: [
        { role: role.alice, kind: 'user', tenant: 'acme', attributes: { region: 'eu', level: 3, teams: ['a', 'b'] }, context: {} },
        { role: role.app, kind: 'app', attributes: {}, context: { tenant: { setting: 'app.tenant', type: 'text' } } },
      ],
      applied: { 'policy:public.customers': { desired: 'h1', rendered: 'r1' }, runtime: { desired: 'h-runtime', rendered: 'r-runtime' } },
    });
    expect(Object.keys(state.runtime!.applied)).toEqual(['policy:public.customers', 'runtime']);
    // The runtime schema itself, as apply records it for drift detection (src/plan/runtime.ts).
    const parsed = parseRuntimeState(runtimeState);
    expect(parsed?.owner).toBe(su);
    expect(parsed?.relations.map((r) => [r.name, r.kind, r.owner, r.rls, r.force, r.policies.map((p) => [p.name, p.command, p.roles, p.using])])).toEqual([
      ['applied', 'r', su, false, false, []],
      ['converged', 'r', su, false, false, []],
      ['principals', 'r', su, true, true, [['manage', '*', [su], 'true'], ['own_row', 'r', ['public'], '(role = SESSION_USER)']]],
    ]);
    expect(parsed?.functions.map((f) => [`${f.name}(${f.arguments})`, f.acl, f.definition?.startsWith(`CREATE OR REPLACE FUNCTION tenantctl.${f.name}(`)])).toEqual([
      ['app_tenant(context jsonb, OUT id uuid, OUT slug text, OUT status text)', [[su, 'EXECUTE', false]], true],
      ...['attr(attribute text)', 'current_tenant(OUT id uuid, OUT slug text, OUT status text)', 'visible()', 'writable()', 'writable_attr(attribute text)'].map((f) => [
        f,
        [[su, 'EXECUTE', false], ['public', 'EXECUTE', false]],
        true,
      ]),
    ]);
  });

  it('reads the registry version and tenants', () => {
    expect(state.registry).toEqual({
      schema: 'tenant_registry',
      version: 1,
      tenants: [
        { id: TENANT_ACME, slug: 'acme', status: 'active' },
        { id: TENANT_GLOBEX, slug: 'globex', status: 'frozen' },
      ],
    });
  });

  it('gives deep-equal results when read twice, also inside a transaction', async () => {
    const again = await readCatalog(db.sql, { schemas: ['public'], registrySchema: 'tenant_registry' });
    const inTx = await db.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', (tx) =>
      readCatalog(tx, { schemas: ['public'], registrySchema: 'tenant_registry' }),
    );
    // Other test files create roles on the shared server meanwhile: compare everything else exactly.
    const stable = (s: CatalogState) => ({ ...s, roles: s.roles.filter((r) => r.name.startsWith(p) || r.name === su) });
    expect(stable(again)).toStrictEqual(stable(state));
    expect(stable(inTx)).toStrictEqual(stable(state));
  });

  it('reads with 10 queries when the runtime and the registry exist', async () => {
    const c = await counting(db.url);
    try {
      await readCatalog(c.sql, { schemas: ['public'], registrySchema: 'tenant_registry' });
      expect(c.count()).toBe(10);
    } finally {
      await c.sql.end();
    }
  });

  it('reads nothing for a governed schema that does not exist', async () => {
    const s = await readCatalog(db.sql, { schemas: ['nope'], registrySchema: 'tenant_registry' });
    expect(s.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['tenantctl_support.customers']);
    expect(s.policies).toEqual([]);
    expect(s.schemas.map((x) => x.name)).toEqual(['tenant_registry', 'tenantctl', 'tenantctl_support']);
  });
});

describe('readCatalog: a constant number of queries', () => {
  let small: TestDatabase;
  let large: TestDatabase;
  beforeAll(async () => {
    [small, large] = await Promise.all([freshDatabase('cat_small'), freshDatabase('cat_large')]);
    await small.sql.unsafe(FIXTURE);
    await large.sql.unsafe(FIXTURE);
    await large.sql.unsafe(`
      CREATE SCHEMA tenantctl_bulk;
      DO $$
      BEGIN
        FOR i IN 1..200 LOOP
          EXECUTE format('CREATE TABLE public.%I (id serial PRIMARY KEY, org text NOT NULL, v text)', 'bulk_' || i);
          EXECUTE format('COMMENT ON TABLE public.%I IS %L', 'bulk_' || i, 'bulk table ' || i);
          EXECUTE format('ALTER TABLE public.%I ENABLE ROW LEVEL SECURITY', 'bulk_' || i);
          EXECUTE format('CREATE POLICY p ON public.%I USING (org = current_user)', 'bulk_' || i);
          EXECUTE format('GRANT SELECT (id, org) ON public.%I TO PUBLIC', 'bulk_' || i);
          IF i <= 50 THEN
            EXECUTE format('CREATE VIEW tenantctl_bulk.%I AS SELECT id, org FROM public.%I', 'bulk_' || i, 'bulk_' || i);
            EXECUTE format('GRANT SELECT ON tenantctl_bulk.%I TO PUBLIC', 'bulk_' || i);
          END IF;
        END LOOP;
      END $$;`);
  });
  afterAll(async () => {
    await Promise.all([small?.drop(), large?.drop()]);
  });

  it('is the same for 7 tables and for 207 tables (plus 50 views, 200 policies, 400 column grants)', async () => {
    const counts: number[] = [];
    const states: CatalogState[] = [];
    for (const db of [small, large]) {
      const c = await counting(db.url);
      try {
        states.push(await readCatalog(c.sql, { schemas: ['public'], registrySchema: 'tenant_registry' }));
        counts.push(c.count());
      } finally {
        await c.sql.end();
      }
    }
    expect(states[0]!.tables.map((t) => t.name)).toEqual(FIXTURE_TABLES);
    expect(states[1]!.tables).toHaveLength(7 + 200 + 50);
    expect(states[1]!.policies).toHaveLength(200);
    expect(states[1]!.views).toHaveLength(50);
    expect(expandGrants(states[1]!.grants).filter((g) => g.objectKind === 'column')).toHaveLength(400);
    expect(states[1]!.tables.find((t) => t.name === 'bulk_17' && t.schema === 'public')).toMatchObject({
      comment: 'bulk table 17', rlsEnabled: true, defaultSequences: ['public.bulk_17_id_seq'],
    });
    // One query for the cheap checks, one per kind: tables, roles, policies, views, schemas, grants.
    expect(counts).toEqual([7, 7]);
  });
});

describe('readCatalog on a connection that has not read the array types (as plan connects)', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await freshDatabase('cat_notypes');
  });
  afterAll(async () => {
    await db?.drop();
  });

  it('binds the governed schemas as an array literal that survives quotes, commas, braces and backslashes', async () => {
    const names = ['public', 'a,b', 'say "hi"', 'back\\slash', '{x}', 'NULL', ' sp ', 'é'];
    expect(arrayLiteral(['a', 'b"c', 'd\\e'])).toBe('{"a","b\\"c","d\\\\e"}');
    expect(arrayLiteral([])).toBe('{}');
    const sql = postgres(db.url, { max: 1, fetch_types: false, onnotice: () => {} });
    try {
      const [row] = await sql.unsafe('SELECT pg_catalog.to_json($1::name[]) AS a, pg_catalog.to_json($2::text[]) AS e', [arrayLiteral(names), arrayLiteral([])]);
      expect(row).toEqual({ a: names, e: [] });
      await db.sql.unsafe(`CREATE SCHEMA ${ident('say "hi"')}; CREATE TABLE ${ident('say "hi"')}.t (id int); GRANT SELECT (id) ON ${ident('say "hi"')}.t TO PUBLIC`);
      const state = await readCatalog(sql, { schemas: ['say "hi"', 'a,b'], registrySchema: 'tenant_registry' });
      expect(state.tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['say "hi".t']);
      expect(expandGrants(state.grants).filter((g) => g.objectKind === 'column').map((g) => [g.schema, g.name, g.column, g.grantee, g.privilege])).toEqual([['say "hi"', 't', 'id', 'public', 'SELECT']]);
    } finally {
      await sql.end();
    }
  });
});

describe('readCatalog: without runtime and registry, a quoted registry schema, a non-superuser', () => {
  let db: TestDatabase;
  const login = `cat${randomBytes(3).toString('hex')}_reader`;
  const password = randomBytes(12).toString('hex');
  beforeAll(async () => {
    db = await freshDatabase('cat_bare');
    await db.sql.unsafe(FIXTURE);
    await db.sql.unsafe(`CREATE ROLE ${ident(login)} LOGIN PASSWORD '${password}'`);
  });
  afterAll(async () => {
    await db.sql.unsafe(`DROP OWNED BY ${ident(login)}; DROP ROLE ${ident(login)}`);
    await db.drop();
  });

  it('leaves runtime and registry undefined when they are not installed', async () => {
    const s = await readCatalog(db.sql, { schemas: ['public'], registrySchema: 'tenant_registry' });
    expect(s.runtime).toBeUndefined();
    expect(s.registry).toBeUndefined();
    expect('runtime' in s || 'registry' in s).toBe(false);
    expect(s.tables.map((t) => t.name)).toEqual(FIXTURE_TABLES);
    expect(s.schemas.map((x) => x.name)).toEqual(['public']);
    expect(s.policies).toEqual([]);
    expect(s.views).toEqual([]);
  });

  it('reads a non-superuser catalog without password verifiers', async () => {
    const other = postgres(db.urlFor(login, password), { max: 1, onnotice: () => {} });
    try {
      const s = await readCatalog(other, { schemas: ['public'], registrySchema: 'tenant_registry' });
      expect(s.currentUser).toBe(login);
      expect(s.roles.filter((r) => r.passwordVerifier !== undefined)).toEqual([]);
      expect(s.roles.find((r) => r.name === login)).toMatchObject({ login: true, superuser: false, settings: [] });
      expect(s.tables.map((t) => t.name)).toEqual(FIXTURE_TABLES);
    } finally {
      await other.end();
    }
  });

  it('reads a registry in a schema named "registry two", once its migrations have run', async () => {
    const schema = 'registry two';
    await installRegistry(db.sql, schema);
    try {
      await db.sql.unsafe(`INSERT INTO ${ident(schema)}.tenants (id, slug, name, status) VALUES ('00000000-0000-4000-8000-000000000001', 'initech', 'Initech', 'trial')`);
      const s = await readCatalog(db.sql, { schemas: ['public'], registrySchema: schema });
      expect(s.registry).toEqual({ schema, version: 1, tenants: [{ id: '00000000-0000-4000-8000-000000000001', slug: 'initech', status: 'trial' }] });
      expect(s.schemas.map((x) => x.name)).toEqual(['public', schema]);
      expect(s.runtime).toBeUndefined();
      // The default name finds nothing here.
      expect((await readCatalog(db.sql, { schemas: ['public'], registrySchema: 'tenant_registry' })).registry).toBeUndefined();
      // No version recorded yet: the registry counts as not migrated.
      await db.sql.unsafe(`DELETE FROM ${ident(schema)}.schema_migrations`);
      expect((await readCatalog(db.sql, { schemas: ['public'], registrySchema: schema })).registry).toBeUndefined();
    } finally {
      await db.sql.unsafe(`DROP SCHEMA ${ident(schema)} CASCADE`);
    }
  });
});

describe('catalog row mapping (pure)', () => {
  const table = (schema: string, name: string, extra: Partial<TableRow> = {}): TableRow => ({
    schema, name, kind: 'r', owner: 'o', rls_enabled: false, rls_forced: false, parent_schema: null, parent_name: null,
    columns: null, default_sequences: null, comment: null, ...extra,
  });

  it('sorts by code unit, independent of collation, and orders columns by attnum', () => {
    const out = mapTables([
      table('public', 'b'),
      table('public', 'B'),
      table('Public', 'z'),
      table('public', 'a', {
        columns: [
          ['y', 'text', false, false, false, false, 3],
          ['x', 'int', true, false, false, false, 1],
        ],
        default_sequences: ['s.z', 's.a', 's.a'],
        comment: 'c',
      }),
    ]);
    expect(out.map((t) => `${t.schema}.${t.name}`)).toEqual(['Public.z', 'public.B', 'public.a', 'public.b']);
    const a = out[2]!;
    expect(a.columns.map((c) => c.name)).toEqual(['x', 'y']);
    expect(a.columns[0]).toEqual({ name: 'x', type: 'int', notNull: true, hasDefault: false, identity: false, generated: false, attnum: 1 });
    expect(a.defaultSequences).toEqual(['s.a', 's.z']);
    expect(a.comment).toBe('c');
    expect('comment' in out[0]! || 'partitionOf' in out[0]!).toBe(false);
  });

  it('rejects kinds it does not know instead of passing them on', () => {
    expect(() => mapTables([table('public', 'x', { kind: 'S' })])).toThrow(/relation kind/);
    const grant: GrantRow = { object_kind: 'function', schema: 's', name: 'f', grantee: 'a', grantor: 'b', privileges: [['EXECUTE', false]] };
    expect(() => mapGrants([grant])).toThrow(/grant object kind/);
    expect(() => mapRegistry('r', { version: '1', tenants: [{ id: 'i', slug: 's', status: 'gone' }] })).toThrow(/tenant status/);
  });

  it('omits absent optional fields and sorts memberships and settings', () => {
    const row: RoleRow = {
      name: 'r', login: false, superuser: false, bypass_rls: false, create_role: false, inherit: true, connection_limit: -1,
      member_of: ['b', 'a'], settings: ['z=1', 'a=2'], comment: null, password_verifier: null,
    };
    const [r] = mapRoles([row]);
    expect(r).toStrictEqual({
      name: 'r', login: false, superuser: false, bypassRls: false, createRole: false, inherit: true, connectionLimit: -1,
      memberOf: ['a', 'b'], settings: ['a=2', 'z=1'],
    });
    expect(mapRegistry('r', { version: null, tenants: null })).toBeUndefined();
  });
});
