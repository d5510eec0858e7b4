// Errors only the catalog can reveal: file:line:column, what is wrong, and the nearest valid name.
import { describe, expect, test } from 'vitest';
import { compile } from '../../../src/compile/compile.js';
import { formatDiagnostic } from '../../../src/policy/diagnostic.js';
import { brief, catalog, COMPILE_OPTIONS, compileErrors, model, shop } from '../helpers/catalog.js';

/** `LINE:COL` of the `nth` occurrence (1-based) of `needle` in `text`. */
function posOf(text: string, needle: string, nth = 1): string {
  let index = -1;
  for (let i = 0; i < nth; i++) {
    index = text.indexOf(needle, index + 1);
    if (index < 0) throw new Error(`${needle} not found`);
  }
  const before = text.slice(0, index).split('\n');
  return `${before.length}:${(before[before.length - 1] as string).length + 1}`;
}

const user = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
`;

const one = (policy: string, assign = 'p') => `${user}policies:
${policy}
assignments:
  - { policy: ${assign}, to: all }
`;

describe('unknown names, with did-you-mean', () => {
  test('unknown table', async () => {
    const yaml = one(`  - name: p
    type: row_filter
    tables: [custmers]
    filter: "org = {user.tenant}"`);
    const errors = await compileErrors(yaml);
    expect(errors.map(brief)).toEqual([`${posOf(yaml, 'custmers')}: unknown table \`custmers\` in schema public (did you mean customers)`]);
    expect(posOf(yaml, 'custmers')).toBe('9:14');
    expect(formatDiagnostic(errors[0]!)).toBe('policies.yaml:9:14: error: unknown table `custmers` in schema public\n  did you mean `customers`?');
  });

  test('unknown column in column_mask', async () => {
    const yaml = one(`  - name: p
    type: column_mask
    table: customers
    column: ssm
    mask: "'x'"`);
    expect((await compileErrors(yaml)).map(brief)).toEqual([`${posOf(yaml, 'ssm')}: unknown column \`ssm\` on customers (did you mean ssn)`]);
  });

  test('unknown column in column_deny, on every table it targets', async () => {
    const yaml = one(`  - name: p
    type: column_deny
    tables: [customers, products]
    columns: [id, ssm]`);
    expect((await compileErrors(yaml)).map(brief)).toEqual([
      `${posOf(yaml, 'ssm')}: unknown column \`ssm\` on customers (did you mean ssn)`,
      `${posOf(yaml, 'ssm')}: unknown column \`ssm\` on products`,
    ]);
  });

  test('unknown column in column_allow', async () => {
    const yaml = one(`  - name: p
    type: column_allow
    tables: [customers]
    columns: [nmae]`);
    expect((await compileErrors(yaml)).map(brief)).toEqual([`${posOf(yaml, 'nmae')}: unknown column \`nmae\` on customers (did you mean name)`]);
  });

  test('unknown column in a filter expression, at the column inside the string', async () => {
    const yaml = one(`  - name: p
    type: row_filter
    tables: [customers]
    filter: "orgg = {user.tenant}"`);
    expect(posOf(yaml, 'orgg')).toBe('10:14');
    expect((await compileErrors(yaml)).map(brief)).toEqual(['10:14: unknown column `orgg` on customers (did you mean org)']);
  });

  test('a column of a subquery relation is in scope; an unknown relation in a subquery is an error', async () => {
    const ok = one(`  - name: p
    type: row_filter
    tables: [orders]
    filter: "customer_id IN (SELECT id FROM customers WHERE name = {user.name})"`);
    expect(compile(await model(ok), shop(), COMPILE_OPTIONS).errors).toEqual([]);
    const bad = one(`  - name: p
    type: row_filter
    tables: [orders]
    filter: "customer_id IN (SELECT id FROM custmers)"`);
    expect((await compileErrors(bad)).map(brief)).toEqual([`${posOf(bad, 'custmers')}: unknown table \`custmers\` in schema public (did you mean customers)`]);
  });

  test('unknown tenant slug (not in the registry), and a database without the registry', async () => {
    const yaml = `version: 1
users:
  - name: alice
    tenant: acmee
policies:
  - name: p
    type: row_filter
    tables: [customers]
    filter: "org = {user.tenant}"
assignments:
  - { policy: p, to: all }
`;
    const message = '4:13: tenant `acmee` is not in the registry (tenant_registry.tenants); register it with `tenantctl tenant create acmee`';
    expect((await compileErrors(yaml)).map(brief)).toEqual([`${message} (did you mean acme)`]);
    expect((await compileErrors(yaml, catalog({ tables: { customers: ['id', 'org'] } }))).map(brief)).toEqual([message]);
  });
});

describe('passwords never reach messages', () => {
  test('a missing env var names the variable and the user, and no password', async () => {
    const yaml = `version: 1
users:
  - name: alice
    tenant: acme
    password: { env: PW }
  - name: bob
    tenant: acme
    password: { env: BOB_PW }
  - name: carol
    tenant: acme
    password: { value: "hunter2-secret" }
policies:
  - name: p
    type: row_filter
    tables: [customers]
    filter: "org = {user.tenant}"
assignments:
  - { policy: p, to: all }
`;
    const result = compile(await model(yaml), shop(), COMPILE_OPTIONS);
    expect(result.errors.map(brief)).toEqual([`${posOf(yaml, '{ env: BOB_PW }')}: environment variable BOB_PW is not set (password of bob)`]);
    const text = JSON.stringify([...result.errors, ...result.warnings]);
    expect(text).not.toContain('secret-pw');
    expect(text).not.toContain('hunter2-secret');
  });
});

describe('what the catalog holds', () => {
  test('a governed schema that does not exist in the database', async () => {
    const yaml = `version: 1
schemas: [public, salse]
users:
  - name: alice
    tenant: acme
policies:
  - name: p
    type: row_filter
    tables: [customers]
    filter: "org = {user.tenant}"
assignments:
  - { policy: p, to: all }
`;
    expect((await compileErrors(yaml, shop({ schemas: ['sales'] }))).map(brief)).toEqual([
      `${posOf(yaml, 'salse')}: schema \`salse\` does not exist in database appdb (did you mean sales)`,
    ]);
  });

  test('a partition targeted directly', async () => {
    const cat = shop({ tables: { events: { columns: ['id', 'org'], kind: 'p' }, events_2024: { columns: ['id', 'org'], partitionOf: 'events' } } });
    const yaml = one(`  - name: p
    type: row_filter
    tables: [events_2024]
    filter: "org = {user.tenant}"`);
    expect((await compileErrors(yaml, cat)).map(brief)).toEqual([
      `${posOf(yaml, 'events_2024')}: \`events_2024\` is a partition of public.events; target the partitioned table`,
    ]);
  });

  test('a view targeted', async () => {
    const cat = shop({ tables: { customer_summary: { columns: ['org', 'n'], kind: 'v' } } });
    const yaml = one(`  - name: p
    type: row_filter
    tables: [customer_summary]
    filter: "org = {user.tenant}"`);
    expect((await compileErrors(yaml, cat)).map(brief)).toEqual([
      `${posOf(yaml, 'customer_summary')}: \`customer_summary\` is a view, not a table; row security applies to tables only`,
    ]);
  });

  test('a glob that matches nothing is a warning, not an error', async () => {
    const yaml = one(`  - name: p
    type: row_filter
    tables: ["raw_*"]
    filter: "org = {user.tenant}"`);
    const result = compile(await model(yaml), shop(), COMPILE_OPTIONS);
    expect(result.errors).toEqual([]);
    expect(result.warnings.map(brief)).toEqual([`${posOf(yaml, '"raw_*"')}: \`raw_*\` matches no table in schema public`]);
    expect(result.desired?.personas[0]?.tables.map((t) => t.rows)).toEqual([undefined, undefined, undefined]);
  });
});
