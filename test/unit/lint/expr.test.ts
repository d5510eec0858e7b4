// The expression readers behind the policy checks, on pg_get_expr-style text.
import { beforeAll, describe, expect, it } from 'vitest';
import { alwaysTrue, filterColumns, parseExpression, unwrappedLookups } from '../../../src/lint/expr.js';
import { loadSqlParser } from '../../../src/policy/pg-parser.js';

beforeAll(async () => {
  await loadSqlParser();
});

const T = { schema: 'public', name: 'order_items' };

describe('alwaysTrue', () => {
  it.each([
    'true',
    "'t'::boolean",
    '(1 = 1)',
    "('a'::text = 'a'::text)",
    '(org = org)',
    '((org = (SELECT tenantctl.attr(\'tenant\'::text) AS attr)) OR true)',
    '(NOT false)',
    '(true AND (2 = 2))',
  ])('%s holds for every row', (text) => {
    expect(alwaysTrue(parseExpression(text))).toBe(true);
  });

  it.each(['false', '(1 = 2)', "(org = 'acme'::text)", "(org = (SELECT tenantctl.attr('tenant'::text) AS attr))", '(true AND (org = name))', '(a = b)', '(NOT true)'])(
    '%s does not',
    (text) => {
      expect(alwaysTrue(parseExpression(text))).toBe(false);
    },
  );
});

describe('unwrappedLookups', () => {
  it('finds template and current_setting calls evaluated per row', () => {
    expect(unwrappedLookups(parseExpression("(org = tenantctl.attr('tenant'::text))"))).toEqual(['tenantctl.attr']);
    expect(unwrappedLookups(parseExpression("(org = current_setting('app.tenant'::text, true))"))).toEqual(['current_setting']);
    expect(unwrappedLookups(parseExpression("((tenant_id)::text = pg_catalog.current_setting('app.tenant_id'))"))).toEqual(['current_setting']);
    // Inside a sub-select WITH a FROM, the call runs for every row of that FROM.
    expect(unwrappedLookups(parseExpression("(order_id IN (SELECT orders.id FROM public.orders WHERE (orders.org = tenantctl.attr('tenant'::text))))"))).toEqual([
      'tenantctl.attr',
    ]);
  });

  it('accepts calls wrapped in a sub-select without FROM, as tenantctl compiles them', () => {
    const demo = "((SELECT tenantctl.visible() AS visible) AND (order_id IN (SELECT orders.id FROM public.orders WHERE (orders.org = (SELECT tenantctl.attr('tenant'::text) AS attr)))))";
    expect(unwrappedLookups(parseExpression(demo))).toEqual([]);
    expect(unwrappedLookups(parseExpression("(org = (SELECT current_setting('app.tenant'::text, true) AS current_setting))"))).toEqual([]);
    expect(unwrappedLookups(parseExpression('(owner = CURRENT_USER)'))).toEqual([]);
  });
});

describe('filterColumns', () => {
  it('finds the column compared with a lookup, on the policy table and inside sub-selects', () => {
    const demo = "((SELECT tenantctl.visible() AS visible) AND (order_id IN (SELECT orders.id FROM public.orders WHERE (orders.org = (SELECT tenantctl.attr('tenant'::text) AS attr)))))";
    expect(filterColumns(parseExpression(demo), T)).toEqual([
      { schema: 'public', name: 'order_items', column: 'order_id' },
      { schema: 'public', name: 'orders', column: 'org' },
    ]);
  });

  it('handles casts, = ANY, aliases, bare calls and current_user', () => {
    expect(filterColumns(parseExpression("(tenant_id = ((SELECT tenantctl.attr('tenant_id'::text) AS attr))::uuid)"), T)).toEqual([
      { schema: 'public', name: 'order_items', column: 'tenant_id' },
    ]);
    expect(filterColumns(parseExpression("(team = ANY ((SELECT tenantctl.attr_list('teams'::text) AS attr_list)))"), T)).toEqual([
      { schema: 'public', name: 'order_items', column: 'team' },
    ]);
    expect(
      filterColumns(parseExpression("(EXISTS (SELECT 1 FROM app.orders o WHERE ((o.id = order_items.order_id) AND (o.org = current_setting('app.t'::text)))))"), T),
    ).toEqual([{ schema: 'app', name: 'orders', column: 'org' }]);
    expect(filterColumns(parseExpression('(owner_name = CURRENT_USER)'), T)).toEqual([{ schema: 'public', name: 'order_items', column: 'owner_name' }]);
  });

  it('ignores comparisons with constants and columns', () => {
    expect(filterColumns(parseExpression("((status = 'open'::text) AND (a = b))"), T)).toEqual([]);
  });
});
