// Several governed schemas: tables of one name in two schemas, text tenant ids, apps. Found with the seed 004
// fixture (fixtures/platform_services).
import { describe, expect, test } from 'vitest';
import type { CatalogTable } from '../../../src/catalog/types.js';
import { governableTables, resolveTargets, tableKey } from '../../../src/compile/resolve.js';
import { tableRefMatches } from '../../../src/policy/tables.js';
import { brief, catalog, compileErrors, desiredOf, model } from '../helpers/catalog.js';

const twoSchemas = () =>
  catalog({
    registryTenants: ['acme'],
    tables: { 'billing.events': ['id', 'tenant_id', 'amount'], 'catalog.events': ['id', 'tenant_id', 'sku'], 'catalog.products': ['id', 'tenant_id'] },
  });

const file = (extra = '') => `version: 1
schemas: [billing, catalog]
apps:
  - name: svc
    context: { tenant: app.tenant }
policies:
  - name: iso
    type: row_filter
    tables: ["*"]
    filter: "tenant_id = {user.tenant}"
  - name: no-catalog-events
    type: table_deny
    tables: [catalog.events]
assignments:
  - { policy: iso, to: all }
${extra}`;

describe('tables of one name in two governed schemas', () => {
  test('visible to one principal: an error at the second schema, before anything runs', async () => {
    // Without this check, plan showed two CREATE VIEW "tenantctl_<id>"."events" and apply failed on the server with
    // `relation "events" already exists`.
    const errors = await compileErrors(file(), twoSchemas());
    expect(errors.map(brief)).toEqual([
      '2:20: tables `billing.events` and `catalog.events` are both visible to svc, whose views are named by table name; deny one of them to svc (table_deny) or rename one',
    ]);
  });

  test('denying one of them to the principal resolves it; every table of both schemas stays governed', async () => {
    const desired = await desiredOf(file('  - { policy: no-catalog-events, to: all }\n'), twoSchemas());
    expect(desired.personas.map((p) => p.tables.map((t) => `${t.table.schema}.${t.table.name}`))).toEqual([['billing.events', 'catalog.products']]);
    expect(desired.governedTables.map((t) => `${t.schema}.${t.name}`)).toEqual(['billing.events', 'catalog.events', 'catalog.products']);
  });
});

describe('policy targets', () => {
  test('a name in every governed schema or in one, a glob: as matching every governed table would give them', async () => {
    const cat = catalog({
      registryTenants: ['acme'],
      tables: {
        'billing.events': ['id', 'tenant_id'],
        'catalog.events': ['id', 'tenant_id'],
        'catalog.event_types': ['id', 'tenant_id'],
        'billing.invoices': ['id', 'tenant_id'],
        'other.events': ['id', 'tenant_id'],
      },
    });
    const m = await model(`version: 1
schemas: [catalog, billing]
apps:
  - name: svc
    context: { tenant: app.tenant }
policies:
  - name: by-name
    type: table_deny
    tables: [events, billing.invoices, catalog.events]
  - name: by-glob
    type: table_deny
    tables: ["event*", invoices]
assignments:
  - { policy: by-name, to: all }
  - { policy: by-glob, to: all }
`);
    const governed = governableTables(cat, ['catalog', 'billing']);
    const { targets } = resolveTargets(m, cat, governed);
    const reference = (name: string) => {
      const matched = new Map<string, CatalogTable>();
      for (const ref of m.policies.find((p) => p.name === name)!.tables) for (const t of governed.filter((g) => tableRefMatches(ref, g.schema, g.name))) matched.set(tableKey(t), t);
      return [...matched.values()].map(tableKey);
    };
    expect(targets.get('by-name')?.map(tableKey)).toEqual(['billing.events', 'catalog.events', 'billing.invoices']);
    expect(targets.get('by-name')?.map(tableKey)).toEqual(reference('by-name'));
    expect(targets.get('by-glob')?.map(tableKey)).toEqual(['billing.events', 'catalog.events', 'catalog.event_types', 'billing.invoices']);
    expect(targets.get('by-glob')?.map(tableKey)).toEqual(reference('by-glob'));
  });
});

describe('names with dots', () => {
  test('"a.b".c and a."b.c" are two tables, each with its own columns', async () => {
    const base = catalog({ registryTenants: ['acme'], tables: { 'a.t1': ['id', 'org', 'p'], 'a.t2': ['id', 'org', 'q'] } });
    const cat = {
      ...base,
      schemas: [...base.schemas, { name: 'a.b', owner: 'app_owner' }],
      tables: base.tables.map((t) => (t.name === 't1' ? { ...t, name: 'b.c' } : { ...t, schema: 'a.b', name: 'c' })),
    };
    const desired = await desiredOf(
      `version: 1
schemas: [a, "a.b"]
apps:
  - name: svc
    context: { tenant: app.tenant }
policies:
  - name: iso
    type: row_filter
    tables: ["*"]
    filter: "org = {user.tenant}"
assignments:
  - { policy: iso, to: all }
`,
      cat,
    );
    expect(desired.personas[0]?.tables.map((t) => [t.table.schema, t.table.name, t.columns.map((c) => c.name)])).toEqual([
      ['a', 'b.c', ['id', 'org', 'p']],
      ['a.b', 'c', ['id', 'org', 'q']],
    ]);
  });
});
