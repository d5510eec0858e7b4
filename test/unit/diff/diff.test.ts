// tenantctl diff, the pure part: every classification the issue lists, and what must not count as a change.
import { describe, expect, test } from 'vitest';
import { globContains } from '../../../src/diff/access.js';
import { diffPolicies, widens, type Change } from '../../../src/diff/diff.js';
import { renderDiff } from '../../../src/diff/render.js';
import { model } from '../helpers/catalog.js';

const BASE = `version: 1
mode: policy_required
roles:
  - name: support
users:
  - name: alice
    tenant: acme
    password: { env: PW }
  - name: bob
    tenant: globex
    roles: [support]
apps:
  - name: storefront
    context:
      tenant: app.current_tenant
policies:
  - name: tenant-isolation
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
  - name: no-payments
    type: table_deny
    tables: [payments]
assignments:
  - { policy: tenant-isolation, to: all }
  - { policy: mask-ssn, to: all }
  - { policy: hide-cc, to: all }
  - { policy: no-payments, to: all }
`;

async function diff(before: string, after: string): Promise<Change[]> {
  return [...diffPolicies(await model(before), await model(after)).changes];
}

const brief = (c: Change): string => `${c.subject}${c.table ? ` ${c.table}` : ''} ${c.aspect} ${c.effect}: ${c.detail}`;
const briefs = async (before: string, after: string): Promise<string[]> => (await diff(before, after)).map(brief);

function replace(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replace(from, to);
}

describe('no change', () => {
  test('the same file', async () => {
    expect(await diff(BASE, BASE)).toEqual([]);
  });

  test('reordered policies, assignments, users and keys; reformatted YAML; renamed policies', async () => {
    const other = `version: 1
users:
  - { name: bob, roles: [support], tenant: globex }
  - name: alice
    password: { env: PW }
    tenant: acme
apps: [{ name: storefront, context: { tenant: app.current_tenant } }]
roles: [{ name: support }]
policies:
  - { name: payments-off, type: table_deny, tables: [payments] }
  - name: deny-card
    columns: [credit_card]
    type: column_deny
    table: customers
  - name: ssn-last-four
    type: column_mask
    table: customers
    column: ssn
    mask: |
      '***-**-'   ||
        RIGHT( ssn , 4 )
  - name: isolation
    type: row_filter
    tables: [orders, public.customers]
    filter: "(ORG = {user.tenant})"
assignments:
  - { policy: ssn-last-four, to: all }
  - { policy: payments-off, to: [all] }
  - { policy: deny-card, to: all, priority: 50 }
  - { policy: isolation, to: all }
  - { policy: isolation, to: { user: alice } }
`;
    expect(await briefs(BASE, other)).toEqual([]);
  });

  test('conjuncts reordered, split across two filters, or repeated', async () => {
    const before = replace(BASE, 'filter: "org = {user.tenant}"', `filter: "org = {user.tenant} AND deleted_at IS NULL"`);
    const swapped = replace(BASE, 'filter: "org = {user.tenant}"', `filter: "deleted_at IS NULL and (org = {user.tenant})"`);
    expect(await briefs(before, swapped)).toEqual([]);
    const split = replace(
      replace(BASE, '  - { policy: tenant-isolation, to: all }\n', '  - { policy: tenant-isolation, to: all }\n  - { policy: live, to: all }\n'),
      'policies:\n',
      'policies:\n  - { name: live, type: row_filter, tables: [customers, orders], filter: "deleted_at is null" }\n',
    );
    expect(await briefs(before, split)).toEqual([]);
  });
});

describe('widenings', () => {
  test('a mask removed', async () => {
    const after = replace(BASE, '  - { policy: mask-ssn, to: all }\n', '');
    expect(await briefs(BASE, after)).toEqual([
      "app storefront public.customers mask widens: mask on ssn removed (was '***-**-' || right(ssn, 4)): the column reads unmasked",
      "user alice public.customers mask widens: mask on ssn removed (was '***-**-' || right(ssn, 4)): the column reads unmasked",
      "user bob public.customers mask widens: mask on ssn removed (was '***-**-' || right(ssn, 4)): the column reads unmasked",
    ]);
  });

  test('an except added to a column_deny', async () => {
    const after = replace(BASE, '{ policy: hide-cc, to: all }', '{ policy: hide-cc, to: all, except: [{ user: alice }] }');
    expect(await briefs(BASE, after)).toEqual(['user alice public.customers columns widens: columns now visible: credit_card']);
  });

  test('an except added to a row filter: every row', async () => {
    const after = replace(BASE, '{ policy: tenant-isolation, to: all }', '{ policy: tenant-isolation, to: all, except: [{ app: storefront }] }');
    expect(await briefs(BASE, after)).toEqual([
      'app storefront public.customers table narrows: no rows (no row_filter or column_allow reaches them in policy_required mode) (was readable: rows where org = {user.tenant}, all columns except credit_card; ssn masked as \'***-**-\' || right(ssn, 4))',
      'app storefront public.orders table narrows: no rows (no row_filter or column_allow reaches them in policy_required mode) (was readable: rows where org = {user.tenant}, all columns)',
    ]);
    // In open mode the same except removes the filter: every row.
    const open = replace(BASE, 'mode: policy_required', 'mode: open');
    const openAfter = replace(open, '{ policy: tenant-isolation, to: all }', '{ policy: tenant-isolation, to: all, except: [{ app: storefront }] }');
    expect(await briefs(open, openAfter)).toEqual([
      'app storefront public.customers rows widens: row filter removed: org = {user.tenant} (now every row)',
      'app storefront public.orders rows widens: row filter removed: org = {user.tenant} (now every row)',
    ]);
  });

  test('a row filter removed from one table', async () => {
    const after = replace(BASE, 'tables: [customers, orders]\n    filter', 'tables: [customers]\n    filter');
    expect(await briefs(BASE, after)).toEqual([
      'app storefront public.orders table narrows: no rows (no row_filter or column_allow reaches them in policy_required mode) (was readable: rows where org = {user.tenant}, all columns)',
      'user alice public.orders table narrows: no rows (no row_filter or column_allow reaches them in policy_required mode) (was readable: rows where org = {user.tenant}, all columns)',
      'user bob public.orders table narrows: no rows (no row_filter or column_allow reaches them in policy_required mode) (was readable: rows where org = {user.tenant}, all columns)',
    ]);
  });

  test('one conjunct of a row filter removed', async () => {
    const before = replace(BASE, 'filter: "org = {user.tenant}"', `filter: "org = {user.tenant} AND status <> 'deleted'"`);
    const changes = await diff(before, BASE);
    expect(changes.map(brief)).toContain("user alice public.customers rows widens: row filter removed: status <> 'deleted'");
    expect(changes.every((c) => c.effect === 'widens' && c.aspect === 'rows')).toBe(true);
    expect(changes).toHaveLength(6);
  });

  test('a row filter expression changed: review', async () => {
    const after = replace(BASE, 'filter: "org = {user.tenant}"', 'filter: "org = {user.tenant} OR org = \'shared\'"');
    const changes = await diff(BASE, after);
    expect(changes.map(brief)[0]).toBe(
      "app storefront public.customers rows review: row filter changed: org = {user.tenant} -> org = {user.tenant} OR org = 'shared' (who gains or loses rows depends on the data)",
    );
    expect(changes.map((c) => c.effect)).toEqual(Array(6).fill('review'));
    expect(widens(changes, false)).toBe(true);
    expect(widens(changes, true)).toBe(false);
  });

  test('a template of another attribute or type is a changed expression', async () => {
    const after = replace(BASE, 'filter: "org = {user.tenant}"', 'filter: "org = {user.name}"');
    expect((await diff(BASE, after)).map((c) => c.effect)).toEqual(Array(6).fill('review'));
  });

  test('policy_required to open', async () => {
    const after = replace(BASE, 'mode: policy_required', 'mode: open');
    const changes = await briefs(BASE, after);
    expect(changes[0]).toBe('file mode widens: mode policy_required -> open: every governed table becomes readable by every user and app, also those no policy names');
    // payments stays denied; nothing else named in the file changes for anyone.
    expect(changes).toHaveLength(1);
    // A table named only by an unassigned policy: nobody could read it, now everybody reads every row.
    const withProducts = replace(BASE, '  - name: no-payments', '  - { name: hide-margin, type: column_deny, table: products, columns: [margin] }\n  - name: no-payments');
    expect(await briefs(withProducts, replace(withProducts, 'mode: policy_required', 'mode: open'))).toContain(
      'user alice public.products table widens: readable: all rows, all columns (was no rows (no row_filter or column_allow reaches them in policy_required mode))',
    );
  });

  test('read to readwrite', async () => {
    const after = replace(BASE, '    tenant: acme\n', '    tenant: acme\n    access: readwrite\n');
    expect(await briefs(BASE, after)).toEqual(['user alice access widens: access read -> readwrite: may now insert, update and delete the rows it reads']);
  });

  test('a user moved into a broader persona (a role that is exempt from a deny and may read payments)', async () => {
    const broader = replace(
      replace(BASE, '{ policy: hide-cc, to: all }', '{ policy: hide-cc, to: all, except: [{ role: support }] }'),
      '  - { policy: no-payments, to: all }\n',
      '  - { policy: no-payments, to: all, except: [{ role: support }] }\n  - { policy: payments-own, to: { role: support } }\n',
    ).replace('policies:\n', 'policies:\n  - { name: payments-own, type: row_filter, tables: [payments], filter: "org = {user.tenant}" }\n');
    const aliceJoins = replace(broader, '    tenant: acme\n', '    tenant: acme\n    roles: [support]\n');
    expect(await briefs(broader, aliceJoins)).toEqual([
      'user alice roles neutral: joins support (what that changes per table is listed separately)',
      'user alice public.customers columns widens: columns now visible: credit_card',
      'user alice public.payments table widens: readable: rows where org = {user.tenant}, all columns (was denied (the table does not exist for them))',
    ]);
    // The role itself: what a member gains, beyond what `to: all` gives everyone.
    expect(await briefs(BASE, broader)).toEqual([
      'user bob public.customers columns widens: columns now visible: credit_card',
      'user bob public.payments table widens: readable: rows where org = {user.tenant}, all columns (was denied (the table does not exist for them))',
      'role support public.customers columns widens: columns now visible: credit_card',
      'role support public.payments table widens: readable: rows where org = {user.tenant}, all columns (was denied (the table does not exist for them))',
    ]);
  });

  test('a column_allow list grows, or becomes "*"', async () => {
    const allow = (cols: string): string =>
      replace(BASE, '  - name: no-payments', `  - { name: products-cols, type: column_allow, tables: [products], columns: ${cols} }\n  - name: no-payments`).replace(
        '  - { policy: no-payments, to: all }\n',
        '  - { policy: no-payments, to: all }\n  - { policy: products-cols, to: { user: alice } }\n',
      );
    expect(await briefs(allow('[id, name]'), allow('[id, name, price]'))).toEqual(['user alice public.products columns widens: columns now visible: price']);
    expect(await briefs(allow('[id, name]'), allow('["*"]'))).toEqual(['user alice public.products columns widens: every column is now visible (was only id, name)']);
    expect(await briefs(allow('["*"]'), allow('[id]'))).toEqual(['user alice public.products columns narrows: only columns id remain visible (was all columns)']);
  });

  test('a new user widens; a removed user narrows', async () => {
    const after = replace(BASE, 'apps:\n', '  - name: carol\n    tenant: acme\napps:\n');
    expect(await briefs(BASE, after)).toEqual([
      'user carol principal widens: new user (a LOGIN role)',
      "user carol public.customers table widens: readable: rows where org = {user.tenant}, all columns except credit_card; ssn masked as '***-**-' || right(ssn, 4) (was not governed by the file (no access))",
      'user carol public.orders table widens: readable: rows where org = {user.tenant}, all columns (was not governed by the file (no access))',
      'user carol public.payments table neutral: denied (the table does not exist for them) (was not governed by the file (no access))',
    ]);
    const removed = await diff(after, BASE);
    expect(removed.filter((c) => c.effect !== 'neutral').map((c) => c.effect)).toEqual(['narrows', 'narrows', 'narrows']);
  });
});

describe('narrowings', () => {
  test('a mask added, a column denied, a table denied, a conjunct added', async () => {
    const after = replace(
      replace(replace(BASE, 'columns: [credit_card]', 'columns: [credit_card, email]'), 'tables: [payments]', 'tables: [payments, orders]'),
      'filter: "org = {user.tenant}"',
      'filter: "org = {user.tenant} AND NOT archived"',
    );
    const changes = await briefs(BASE, after);
    expect(changes.filter((c) => c.startsWith('user alice'))).toEqual([
      'user alice public.customers rows narrows: row filter added: NOT archived',
      'user alice public.customers columns narrows: columns now hidden: email',
      'user alice public.orders table narrows: denied (the table does not exist for them) (was readable: rows where org = {user.tenant}, all columns)',
    ]);
    const masked = replace(BASE, '  - { policy: no-payments, to: all }\n', '  - { policy: no-payments, to: all }\n  - { policy: mask-total, to: { user: alice } }\n').replace(
      'policies:\n',
      `policies:\n  - { name: mask-total, type: column_mask, table: orders, column: total, mask: "round(total, -2)" }\n`,
    );
    expect(await briefs(BASE, masked)).toEqual(['user alice public.orders mask narrows: total now masked as round(total, -2)']);
  });

  test('readwrite to read; open to policy_required', async () => {
    const rw = replace(BASE, '    tenant: acme\n', '    tenant: acme\n    access: readwrite\n');
    expect(await briefs(rw, BASE)).toEqual(['user alice access narrows: access readwrite -> read']);
    expect((await diff(replace(BASE, 'mode: policy_required', 'mode: open'), BASE)).map((c) => [c.aspect, c.effect])).toEqual([['mode', 'narrows']]);
  });
});

describe('review and neutral', () => {
  test('a mask changed is review; masks chosen by priority as the compiler chooses them', async () => {
    const after = replace(BASE, `mask: "'***-**-' || right(ssn, 4)"`, `mask: "'[RESTRICTED]'"`);
    expect((await briefs(BASE, after))[0]).toBe("app storefront public.customers mask review: mask on ssn changed: '***-**-' || right(ssn, 4) -> '[RESTRICTED]'");
    // A second mask with a lower priority for alice only: alice's mask changes, nobody else's.
    const full = replace(BASE, '  - { policy: mask-ssn, to: all }\n', '  - { policy: mask-ssn, to: all }\n  - { policy: mask-full, to: { user: alice }, priority: 10 }\n').replace(
      'policies:\n',
      `policies:\n  - { name: mask-full, type: column_mask, table: customers, column: ssn, mask: "'[RESTRICTED]'" }\n`,
    );
    expect(await briefs(BASE, full)).toEqual(["user alice public.customers mask review: mask on ssn changed: '***-**-' || right(ssn, 4) -> '[RESTRICTED]'"]);
  });

  test('tenant, attributes and app context changes are review; password and connection limit neutral', async () => {
    const after = replace(
      replace(replace(BASE, 'tenant: acme\n    password: { env: PW }', 'tenant: globex\n    password: { env: PW2 }\n    connection_limit: 5\n    attributes: { region: eu }'), 'app.current_tenant', 'app.tenant'),
      'tenant: globex\n    roles',
      'tenant: globex\n    roles',
    );
    expect(await briefs(BASE, after)).toEqual([
      'app storefront context review: context changed: tenant: app.current_tenant (text) -> app.tenant (text)',
      'user alice tenant review: tenant acme -> globex: the rows behind {user.tenant} change',
      'user alice attributes review: attributes changed: region added ("eu") (rows and masks that read them change)',
      'user alice connection_limit neutral: connection limit none -> 5',
      'user alice password neutral: password changed (env PW -> env PW2)',
    ]);
  });

  test('passwords never appear in the diff', async () => {
    const before = replace(BASE, 'password: { env: PW }', 'password: { value: "first-secret-1" }');
    const after = replace(BASE, 'password: { env: PW }', 'password: { value: "second-secret-2" }');
    const changes = await diff(before, after);
    expect(changes.map(brief)).toEqual(['user alice password neutral: password changed (value -> value)']);
    const all = ['text', 'json', 'markdown'].map((f) => renderDiff({ changes, summary: { changes: 1, widens: 0, narrows: 0, review: 0, neutral: 1 } }, f as 'text', { old: 'a', new: 'b' })).join('\n');
    expect(all).not.toMatch(/secret/);
  });

  test('a governed schema added in policy_required mode is neutral; removed narrows', async () => {
    const after = replace(BASE, 'mode: policy_required', 'mode: policy_required\nschemas: [public, sales]');
    const added = await briefs(BASE, after);
    // Unqualified names now also mean sales.<name>, if such a table exists (the diff cannot know).
    expect(added[0]).toBe('file schemas neutral: schema sales is now governed');
    expect(added).toContain('user alice sales.orders table widens: readable: rows where org = {user.tenant}, all columns (was not governed by the file (no access))');
    expect(added.filter((c) => !c.includes(' sales.'))).toHaveLength(1);
    const removed = await briefs(after, BASE);
    expect(removed[0]).toBe('file schemas narrows: schema sales is no longer governed: its persona views go away');
    expect(removed).toContain('user alice sales.orders table narrows: not governed by the file (no access) (was readable: rows where org = {user.tenant}, all columns)');
  });
});

describe('globs without a catalog', () => {
  test('a pattern is compared as a pattern: a glob policy covers a name it matches and a narrower pattern', async () => {
    const withGlob = replace(BASE, '  - name: no-payments', '  - { name: raw-deny, type: table_deny, tables: ["raw_*"] }\n  - name: no-payments').replace(
      '  - { policy: no-payments, to: all }\n',
      '  - { policy: no-payments, to: all }\n  - { policy: raw-deny, to: { user: alice } }\n',
    );
    const narrower = withGlob.replace('tables: ["raw_*"]', 'tables: ["raw_2024_*"]');
    const changes = await briefs(withGlob, narrower);
    // alice keeps raw_2024_* denied; any other raw_* table is no longer denied (it is governed and, with no
    // filter, returns no rows in policy_required mode).
    expect(changes).toEqual([
      'user alice public.raw_* table widens: no rows (no row_filter or column_allow reaches them in policy_required mode) (was denied (the table does not exist for them))',
    ]);
  });

  test('glob containment', () => {
    expect(globContains('*', 'raw_*')).toBe(true);
    expect(globContains('raw_*', 'raw_2024_*')).toBe(true);
    expect(globContains('raw_2024_*', 'raw_*')).toBe(false);
    expect(globContains('raw_?', 'raw_a')).toBe(true);
    expect(globContains('raw_?', 'raw_*')).toBe(false);
    expect(globContains('*a*', '*a*')).toBe(true);
  });
});

describe('rendering', () => {
  test('json is stable: format_version, sides, summary, changes', async () => {
    const after = replace(BASE, '{ policy: hide-cc, to: all }', '{ policy: hide-cc, to: all, except: [{ user: alice }] }');
    const result = diffPolicies(await model(BASE), await model(after));
    expect(JSON.parse(renderDiff(result, 'json', { old: 'main:policies.yaml', new: 'policies.yaml' }))).toEqual({
      format_version: 1,
      old: 'main:policies.yaml',
      new: 'policies.yaml',
      summary: { changes: 1, widens: 1, narrows: 0, review: 0, neutral: 0 },
      changes: [{ subject: 'user alice', table: 'public.customers', aspect: 'columns', effect: 'widens', detail: 'columns now visible: credit_card' }],
    });
    expect(renderDiff(result, 'text', { old: 'a', new: 'b' })).toBe(
      'user alice\n  [widens] public.customers: columns now visible: credit_card\n\nDiff: 1 change: 1 widens, 0 narrows, 0 to review, 0 neutral.',
    );
    expect(renderDiff(result, 'markdown', { old: 'a', new: 'b' })).toBe(
      [
        '### tenantctl diff: `a` → `b`',
        '',
        '**Diff: 1 change: 1 widens, 0 narrows, 0 to review, 0 neutral.**',
        '',
        '| effect | who | table | change |',
        '|---|---|---|---|',
        '| **widens** | user alice | `public.customers` | columns now visible: credit_card |',
      ].join('\n'),
    );
  });
});
