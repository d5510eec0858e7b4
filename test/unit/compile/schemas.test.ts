// Several governed schemas: tables of one name in two schemas, text tenant ids, apps. Found with the seed 004
// fixture (fixtures/platform_services).
import { describe, expect, test } from 'vitest';
import { brief, catalog, compileErrors, desiredOf } from '../helpers/catalog.js';

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
