// The pure checks over small in-memory catalogs: which roles are data-plane, and the decisions each check makes.
import { beforeAll, describe, expect, it } from 'vitest';
import type { CatalogPolicy } from '../../../src/catalog/types.js';
import {
  checkAlwaysTrue,
  checkDataPlaneRoles,
  checkFilterIndexes,
  checkPermissiveOverlap,
  checkRowSecurity,
  checkSecurityDefiner,
  dataPlaneRoles,
  lint,
} from '../../../src/lint/checks.js';
import type { LintFacts, LintInput } from '../../../src/lint/types.js';
import { loadSqlParser } from '../../../src/policy/pg-parser.js';
import { catalog, type CatalogSpec } from '../helpers/catalog.js';

beforeAll(async () => {
  await loadSqlParser();
});

const P = 'tenantctl_abc';
const MANAGED = 'managed by tenantctl: test';
const facts = (extra: Partial<LintFacts> = {}): LintFacts => ({
  governedSchemas: ['public'],
  governedFrom: 'catalog',
  serverVersion: '15.18',
  databasePublic: [],
  indexes: [],
  securityDefinerFunctions: [],
  schemaAcls: [],
  adminOnlyMemberships: [],
  ...extra,
});
const policy = (table: string, name: string, using: string, extra: Partial<CatalogPolicy> = {}): CatalogPolicy => ({
  schema: 'public',
  table,
  name,
  command: 'r',
  permissive: true,
  roles: [`${P}_owner`],
  using,
  ...extra,
});
const input = (spec: CatalogSpec, f: Partial<LintFacts> = {}): LintInput => ({
  catalog: catalog({
    schemas: [{ name: P, owner: 'admin', comment: MANAGED }],
    ...spec,
    roles: [
      { name: 'admin', login: true },
      { name: `${P}_owner`, comment: MANAGED },
      { name: `${P}_reader`, comment: MANAGED },
      { name: 'alice', login: true, memberOf: [`${P}_reader`] },
      { name: 'etl', login: true },
      ...(spec.roles ?? []),
    ],
  }),
  facts: facts(f),
});
const keys = (fs: { level: string; check: string; object: string }[]): string[] => fs.map((f) => `${f.level} ${f.check} ${f.object}`);
const TENANT = "(org = (SELECT tenantctl.attr('tenant'::text) AS attr))";

describe('data-plane roles', () => {
  it('are principals, the file\'s users and apps, and members of managed persona readers', () => {
    const i = input({ runtime: { principals: [{ role: 'app1', kind: 'app', attributes: {}, context: {} }], applied: {} }, roles: [{ name: 'app1', login: true }, { name: 'bob', login: true }] });
    expect(dataPlaneRoles(i)).toEqual(['alice', 'app1']);
    expect(dataPlaneRoles({ ...i, file: { path: 'p.yaml', principals: ['bob', 'ghost'], readOnly: true } })).toEqual(['alice', 'app1', 'bob']);
  });

  it('an ADMIN-only membership (PostgreSQL 16+ gives one to the CREATEROLE creator) neither makes a data-plane role nor reaches a role', () => {
    const spec = { tables: { orders: { columns: ['org'], owner: 'admin', rls: true } }, roles: [{ name: 'admin', login: true, memberOf: [`${P}_reader`] }] };
    const i = input(spec);
    expect(dataPlaneRoles(i)).toEqual(['admin', 'alice']);
    const skipped = input(spec, { adminOnlyMemberships: [{ member: 'admin', role: `${P}_reader` }] });
    expect(dataPlaneRoles(skipped)).toEqual(['alice']);
    expect(checkDataPlaneRoles(skipped)).toEqual([]);
    const viaGroup = input(
      { ...spec, roles: [{ name: 'grp', memberOf: ['admin'] }, { name: 'dave', login: true, memberOf: [`${P}_reader`, 'grp'] }] },
      { adminOnlyMemberships: [{ member: 'grp', role: 'admin' }] },
    );
    expect(keys(checkDataPlaneRoles(viaGroup))).toEqual([]);
  });

  it('a reader of an unmanaged tenantctl_* schema does not count', () => {
    const i = input({ schemas: [{ name: P, owner: 'admin' }] });
    expect(dataPlaneRoles(i)).toEqual([]);
  });

  it('reports roles reached through memberships, once per kind', () => {
    const i = input({
      tables: { orders: { columns: ['org'], owner: 'admin', rls: true } },
      roles: [
        { name: 'ops', superuser: true },
        { name: 'carol', login: true, memberOf: [`${P}_reader`, 'ops', 'admin', `${P}_owner`] },
      ],
      views: [{ schema: P, name: 'orders', owner: `${P}_owner`, definition: 'SELECT 1', options: [], columns: ['org'] }],
    });
    expect(keys(checkDataPlaneRoles(i))).toEqual(['error dataplane-superuser carol', 'error dataplane-table-owner carol', 'error dataplane-view-owner carol']);
  });
});

describe('row security', () => {
  it('one finding per table: policies with RLS off, RLS off, not forced, no policy', () => {
    const i = input({
      tables: {
        a: { columns: ['org'], rls: false },
        b: { columns: ['org'], rls: false },
        c: { columns: ['org'] },
        d: { columns: ['org'], rls: true },
        e: { columns: ['org'], rls: true },
        'other.x': { columns: ['org'] },
      },
      policies: [policy('a', 'pa', TENANT), policy('c', 'pc', TENANT), policy('e', 'pe', TENANT)],
    });
    const c = i.catalog.tables.find((t) => t.name === 'c');
    const tables = i.catalog.tables.map((t) => (t === c ? { ...t, rlsEnabled: true, rlsForced: false } : t));
    expect(keys(checkRowSecurity({ ...i, catalog: { ...i.catalog, tables } }))).toEqual([
      'error policy-rls-off public.a',
      'error rls-disabled public.b',
      'error rls-not-forced public.c',
      'info rls-no-policy public.d',
    ]);
  });
});

describe('policy expressions', () => {
  it('always-true is an error when a data-plane role or persona owner gets it, a warning otherwise; restrictive ones are ignored', () => {
    const i = input({
      tables: { t: { columns: ['org'], rls: true } },
      policies: [
        policy('t', 'owner_all', '(1 = 1)'),
        policy('t', 'etl_all', 'true', { roles: ['etl'] }),
        policy('t', 'pub', 'true', { roles: ['public'] }),
        policy('t', 'restrictive', 'true', { permissive: false, roles: ['public'] }),
        policy('t', 'fine', TENANT),
      ],
    });
    expect(keys(checkAlwaysTrue(i))).toEqual(['error policy-always-true public.t policy owner_all', 'warning policy-always-true public.t policy etl_all', 'error policy-always-true public.t policy pub']);
  });

  it('an index leading with any filter column of the table is enough; otherwise each column is reported once', () => {
    const i = input(
      {
        tables: { t: { columns: ['org', 'region'], rls: true }, u: { columns: ['org', 'region'], rls: true } },
        policies: [
          policy('t', 'p1', `(${TENANT} AND (region = (SELECT tenantctl.attr('region'::text) AS attr)))`),
          policy('u', 'p2', `(${TENANT} AND (region = (SELECT tenantctl.attr('region'::text) AS attr)))`),
          policy('u', 'p3', TENANT, { command: 'w', withCheck: TENANT }),
        ],
      },
      { indexes: [{ schema: 'public', table: 't', name: 't_org_region', leading: 'org' }, { schema: 'public', table: 'u', name: 'u_expr' }] },
    );
    expect(keys(checkFilterIndexes(i))).toEqual(['warning filter-column-unindexed public.u.org', 'warning filter-column-unindexed public.u.region']);
  });

  it('permissive overlap counts PUBLIC policies for every role, per command', () => {
    const i = input({
      tables: { t: { columns: ['org'], rls: true } },
      policies: [policy('t', 'a', TENANT, { command: '*' }), policy('t', 'b', TENANT, { command: 'w', roles: ['public'] }), policy('t', 'c', TENANT, { command: 'a', permissive: false })],
    });
    expect(keys(checkPermissiveOverlap(i))).toEqual([`warning permissive-overlap public.t UPDATE to ${P}_owner`]);
  });
});

describe('SECURITY DEFINER functions', () => {
  const fn = (config: string[], executors: string[], schema = 'public') => ({ schema, name: 'f', args: 'x integer', owner: 'admin', config, executors });
  const acl = [
    { schema: 'public', owner: 'admin', privileges: ['admin:CREATE', 'admin:USAGE', 'public:USAGE'] },
    { schema: 'private', owner: 'admin', privileges: ['admin:CREATE', 'admin:USAGE'] },
  ];

  it('need a pinned search_path ending in pg_temp when a data-plane role can call them', () => {
    const check = (config: string[], executors = ['admin', 'public'], schema = 'public'): string[] =>
      keys(checkSecurityDefiner(input({}, { schemaAcls: acl, securityDefinerFunctions: [fn(config, executors, schema)] })));
    expect(check([])).toEqual(['error security-definer-search-path public.f(x integer)']);
    expect(check(['search_path=public'])).toEqual(['warning security-definer-pg-temp public.f(x integer)']);
    expect(check(['search_path=pg_catalog, pg_temp'])).toEqual([]);
    expect(check(['search_path="$user", public, pg_temp'])).toEqual([]);
    expect(check([], ['admin'])).toEqual([]);
    expect(check([], [`${P}_reader`])).toEqual(['error security-definer-search-path public.f(x integer)']);
    // EXECUTE without USAGE on the schema: nobody on the data plane can call it.
    expect(check([], ['admin', 'public'], 'private')).toEqual([]);
  });
});

describe('lint', () => {
  it('sorts findings by level, check and object', () => {
    const i = input({ tables: { b: { columns: ['org'] }, a: { columns: ['org'], rls: true } } }, { databasePublic: ['CONNECT'] });
    expect(keys(lint(i))).toEqual(['error rls-disabled public.b', 'info public-connect database appdb', 'info rls-no-policy public.a']);
  });
});
