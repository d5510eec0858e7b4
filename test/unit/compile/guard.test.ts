// The visible() guard is left out only where a filter implies it (src/compile/guard.ts): one lookup less per
// statement, never a wider result. The runtime side of the argument (attr('tenant') is NULL whenever visible()
// is false) is held by test/security and test/integration/tenant-lifecycle.
import { describe, expect, test } from 'vitest';
import { VISIBLE, WRITABLE } from '../../../src/compile/compile.js';
import { impliesVisible } from '../../../src/compile/guard.js';
import { analyseExpression } from '../../../src/policy/expression.js';
import { loadSqlParser } from '../../../src/policy/pg-parser.js';
import type { CatalogState } from '../../../src/catalog/types.js';
import type { Persona } from '../../../src/compile/types.js';
import { catalog, desiredOf } from '../helpers/catalog.js';

const TENANT = "(SELECT tenantctl.attr('tenant'))";
const TENANT_ID = "(SELECT tenantctl.attr('tenant_id')::uuid)";

/** docs: every column text except tenant_id (uuid) and code (varchar(8)); other.org is text. */
function cat(): CatalogState {
  const base = catalog({ registryTenants: ['acme'], tables: { docs: ['id', 'org', 'tenant_id', 'code', 'public', 'author'], other: ['id', 'org'] } });
  const types: Record<string, string> = { tenant_id: 'uuid', code: 'character varying(8)' };
  return {
    ...base,
    tables: base.tables.map((t) => (t.name === 'docs' ? { ...t, columns: t.columns.map((c) => ({ ...c, type: types[c.name] ?? c.type })) } : t)),
  };
}

async function rowsOf(...filters: string[]): Promise<string | undefined> {
  return (await tableOf('read', filters))?.rows;
}

async function tableOf(access: 'read' | 'readwrite', filters: string[]): Promise<Persona['tables'][number] | undefined> {
  const desired = await desiredOf(
    `version: 1
users:
  - name: alice
    tenant: acme
    access: ${access}
policies:
${filters.map((f, i) => `  - name: f${i}\n    type: row_filter\n    tables: [docs]\n    filter: ${JSON.stringify(f)}`).join('\n')}
assignments:
${filters.map((_, i) => `  - { policy: f${i}, to: all }`).join('\n')}
`,
    cat(),
  );
  return (desired.personas[0] as Persona).tables.find((t) => t.table.name === 'docs');
}

describe('the visible() guard is left out when a top-level conjunct compares a column with the tenant', () => {
  test.each([
    ['org = {user.tenant}', `(org = ${TENANT})`],
    ['{user.tenant} = org', `(${TENANT} = org)`],
    ['docs.org = {user.tenant}', `(docs.org = ${TENANT})`],
    ['public.docs.org = {user.tenant}', `(public.docs.org = ${TENANT})`],
    ['code = {user.tenant}', `(code = ${TENANT})`],
    ['tenant_id = {user.tenant_id}', `(tenant_id = ${TENANT_ID})`],
    ["author = {user.name} AND org = {user.tenant} AND public", `(author = (SELECT tenantctl.attr('name')) AND org = ${TENANT} AND public)`],
  ])('%s', async (filter, rows) => {
    expect(await rowsOf(filter)).toBe(rows);
  });

  test('one implying filter is enough when several are ANDed', async () => {
    expect(await rowsOf('public', 'org = {user.tenant}')).toBe(`(public) AND (org = ${TENANT})`);
  });
});

describe('the guard stays wherever the filter could be true with a NULL tenant, or the lookup is not the tenant', () => {
  test.each([
    ['org = {user.tenant} OR public', `${VISIBLE} AND (org = ${TENANT} OR public)`],
    ['NOT (org <> {user.tenant})', `${VISIBLE} AND (NOT (org <> ${TENANT}))`],
    ['org IS NOT DISTINCT FROM {user.tenant}', `${VISIBLE} AND (org IS NOT DISTINCT FROM ${TENANT})`],
    ["org = coalesce({user.tenant}, 'acme')", `${VISIBLE} AND (org = coalesce(${TENANT}, 'acme'))`],
    ['org = {user.tenant}::text', `${VISIBLE} AND (org = ${TENANT}::text)`],
    ['org::text = {user.tenant}', `${VISIBLE} AND (org::text = ${TENANT})`],
    ['org <> {user.tenant}', `${VISIBLE} AND (org <> ${TENANT})`],
    ['author = {user.name}', `${VISIBLE} AND (author = (SELECT tenantctl.attr('name')))`],
    ['public', `${VISIBLE} AND (public)`],
    // A sub-select: not analysed.
    ['id IN (SELECT id FROM other WHERE org = {user.tenant})', `${VISIBLE} AND (id IN (SELECT id FROM other WHERE org = ${TENANT}))`],
    ['EXISTS (SELECT 1 FROM other o WHERE o.id = docs.id AND o.org = {user.tenant})', `${VISIBLE} AND (EXISTS (SELECT 1 FROM other o WHERE o.id = docs.id AND o.org = ${TENANT}))`],
    // Types where `=` would not be pg_catalog's strict text/uuid equality.
    ['id = {user.tenant_id}', `${VISIBLE} AND (id = ${TENANT_ID})`],
  ])('%s', async (filter, rows) => {
    expect(await rowsOf(filter)).toBe(rows);
  });
});

describe('write checks: the implying tenant equality raises for a frozen tenant itself; elsewhere writable()', () => {
  const W_TENANT = "(SELECT tenantctl.writable_attr('tenant'))";
  test.each([
    ['org = {user.tenant}', `(org = ${W_TENANT})`],
    ['tenant_id = {user.tenant_id}', "(tenant_id = (SELECT tenantctl.writable_attr('tenant_id')::uuid))"],
    ['author = {user.name} AND org = {user.tenant}', `(author = (SELECT tenantctl.attr('name')) AND org = ${W_TENANT})`],
    ['org = {user.tenant} OR public', `${VISIBLE} AND (org = ${TENANT} OR public) AND ${WRITABLE}`],
    ['author = {user.name}', `${VISIBLE} AND (author = (SELECT tenantctl.attr('name'))) AND ${WRITABLE}`],
  ])('%s', async (filter, writeRows) => {
    expect((await tableOf('readwrite', [filter]))?.writeRows).toBe(writeRows);
  });

  test('a read-only persona has no write check', async () => {
    const t = await tableOf('read', ['org = {user.tenant}']);
    expect(t?.rows).toBe(`(org = ${TENANT})`);
    expect(t).not.toHaveProperty('writeRows');
  });
});

describe('the conjuncts come from the file check, so compiling needs no SQL parser', () => {
  test('the analysis finds them, either way round, in the order written', async () => {
    await loadSqlParser();
    expect(analyseExpression("author = {user.name} AND {user.tenant} = docs.org AND tenant_id = {user.tenant_id}").equalities).toEqual([
      { fields: ['author'], template: 0 },
      { fields: ['docs', 'org'], template: 1 },
      { fields: ['tenant_id'], template: 2 },
    ]);
    expect(analyseExpression('org = {user.tenant} OR public').equalities).toEqual([]);
    expect(analyseExpression("org = 'acme'").equalities).toEqual([]);
  });

  test('impliesVisible reads `equalities` and never parses the text again', () => {
    const docs = cat().tables.find((t) => t.name === 'docs')!;
    const tenant = { attribute: 'tenant', type: 'text' } as const;
    // parsedText that would not parse: a guard that parsed it again would find nothing and keep the guard.
    const filter = { parsedText: '(((', templates: [tenant], equalities: [{ fields: ['org'], template: 0 }] };
    expect(impliesVisible(filter as never, docs)).toBe(true);
    expect(impliesVisible({ ...filter, equalities: [] } as never, docs)).toBe(false);
    // A template of another type, or a column that is not text: the guard stays.
    expect(impliesVisible({ ...filter, templates: [{ attribute: 'tenant', type: 'bigint' }] } as never, docs)).toBe(false);
    expect(impliesVisible({ ...filter, equalities: [{ fields: ['tenant_id'], template: 0 }] } as never, docs)).toBe(false);
  });
});
