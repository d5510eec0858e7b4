import { describe, expect, test } from 'vitest';
import { checkPolicyText } from '../../../src/policy/check.js';
import { errorsOf, warningsOf, withPolicies } from './helpers.js';

// Each case: a bad file and the exact errors (LINE:COL: message (did you mean X)) that validate reports.
const cases: ReadonlyArray<readonly [string, string, readonly string[]]> = [
  ['YAML syntax error', 'version: 1\nusers: [\n', ['3:1: YAML syntax error: the file ends inside `[...]`, `{...}` or a quoted string: a bracket or quote is never closed']],
  ['duplicate YAML key', 'version: 1\nusers:\n  - name: a\n    tenant: acme\n    tenant: b\n', ['5:5: YAML syntax error: duplicate key: a key may appear only once in a mapping']],
  ['tab indentation', 'version: 1\nusers:\n\t- name: a\n', ['3:1: YAML syntax error: tabs are not allowed as indentation in YAML; use spaces']],
  ['two YAML documents', 'version: 1\n---\nversion: 1\n', ['2:1: YAML syntax error: the file contains more than one YAML document (a second `---`); a policy file is one document']],
  ['empty file', '', ['1:1: the file is empty; a policy file starts with `version: 1`']],
  ['top level is a list', '- a\n- b\n', ['1:1: the file must be a mapping with `version: 1` at the top, not a list']],
  ['missing version', 'mode: open\n', ['1:1: missing required key `version`']],
  ['unsupported version', 'version: 2\n', ['1:10: unsupported version `2`: this tenantctl reads `version: 1`']],
  ['bad enum', 'version: 1\nmode: strict\n', ['2:7: `mode` must be one of `policy_required`, `open`; got `strict`']],
  ['unknown top-level key', 'version: 1\nuser: []\n', ['2:1: unknown key `user` at the top level (did you mean users)']],
  ['wrong type', 'version: 1\nusers:\n  - name: a\n    tenant: 42\n', ['4:13: `tenant` must be a string, not an integer']],
  ['missing name', 'version: 1\nusers:\n  - tenant: acme\n', ['3:5: missing required key `name`']],
  ['negative connection limit', 'version: 1\nusers:\n  - name: a\n    connection_limit: -1\n', ['4:23: `connection_limit` must be at least 0; got `-1`']],
  [
    'attribute of a bad type',
    'version: 1\nusers:\n  - name: a\n    attributes: { x: 2.5, y: [1] }\n',
    [
      '4:22: `x` must be an attribute value: string (text), integer (bigint), boolean, or list of strings (text[]), not a number with a fraction',
      '4:31: item 1 of `y` must be a string, not an integer',
    ],
  ],
  ['unknown key in password', 'version: 1\nusers:\n  - name: a\n    password: { envv: X }\n', ['4:17: unknown key `envv` in `password` (did you mean env)']],
  [
    'password is a bare string',
    'version: 1\nusers:\n  - name: a\n    password: hunter2\n',
    ['4:15: `password` must be { env: VAR } | { scram: VERIFIER } | { value: TEXT } (the LOGIN password; value is for demos only), not a string'],
  ],
  [
    'unknown policy type',
    'version: 1\npolicies:\n  - name: p\n    type: row_filtr\n',
    ['4:11: unknown type `row_filtr`; expected one of row_filter, column_mask, column_deny, column_allow, table_deny (did you mean row_filter)'],
  ],
  [
    'unknown key in a policy',
    'version: 1\npolicies:\n  - name: p\n    type: row_filter\n    tabels: [a]\n    filter: "true"\n',
    ['5:5: unknown key `tabels` in item 1 of `policies` (did you mean tables)'],
  ],
  ['missing filter', 'version: 1\npolicies:\n  - { name: p, type: row_filter, tables: [t] }\n', ['3:5: missing required key `filter`']],
  ['unknown key in a selector', 'version: 1\nassignments:\n  - { policy: p, to: { usr: alice } }\n', ['3:24: unknown key `usr` in `to` (did you mean user)']],
  [
    'selector with two kinds',
    'version: 1\nassignments:\n  - { policy: p, to: { user: alice, app: b } }\n',
    ['3:22: `to` must be all | { user: NAME } | { app: NAME } | { role: NAME } | a list of those, not a mapping'],
  ],
  ['missing to', 'version: 1\nassignments:\n  - { policy: p }\n', ['3:5: missing required key `to`']],
  [
    'unknown policy in an assignment',
    withPolicies('  - { name: tenant-isolation, type: row_filter, tables: [t], filter: "org = {user.tenant}" }\nassignments:\n  - { policy: tenant-isolaton, to: all }\n'),
    ['9:15: unknown policy `tenant-isolaton` in assignment (did you mean tenant-isolation)'],
  ],
  [
    'unknown user, role and app in assignments',
    'version: 1\nroles: [{ name: support }]\nusers: [{ name: alice, tenant: acme }]\napps: [{ name: storefront }]\npolicies:\n  - { name: p, type: table_deny, tables: [t] }\nassignments:\n  - { policy: p, to: [{ user: alicee }, { role: supportt }, { app: storefrnt }] }\n',
    [
      '8:31: unknown user `alicee` in assignment (did you mean alice)',
      '8:49: unknown role `supportt` in assignment (did you mean support)',
      '8:68: unknown app `storefrnt` in assignment (did you mean storefront)',
    ],
  ],
  [
    'a role named as a user',
    'version: 1\nroles: [{ name: support }]\npolicies:\n  - { name: p, type: table_deny, tables: [t] }\nassignments:\n  - { policy: p, to: { user: support } }\n',
    ['6:30: `support` is a role, not a user; write { role: support }'],
  ],
  ['unknown role in a user', 'version: 1\nroles: [{ name: support }]\nusers:\n  - { name: alice, roles: [suport] }\n', ['4:28: unknown role `suport` in user `alice` (did you mean support)']],
  [
    'duplicate names',
    'version: 1\nroles: [{ name: support }]\nusers:\n  - { name: alice }\n  - { name: alice }\n  - { name: support }\napps:\n  - { name: alice }\npolicies:\n  - { name: p, type: table_deny, tables: [t] }\n  - { name: p, type: table_deny, tables: [t] }\n',
    [
      '5:13: duplicate user `alice` (first defined at line 4)',
      '6:13: `support` is already a role (line 2); one name cannot be both a role and a user',
      '8:13: `alice` is already a user (line 4); one name cannot be both a user and an app',
      '11:13: duplicate policy `p` (first defined at line 10)',
    ],
  ],
  [
    'reserved role name',
    'version: 1\nusers:\n  - { name: pg_admin }\n',
    ['3:13: user name `pg_admin` starts with `pg_`, which PostgreSQL reserves for system roles'],
  ],
  [
    'bad tenant slug',
    'version: 1\nusers:\n  - { name: alice, tenant: Acme_Corp }\n',
    ["3:28: tenant `Acme_Corp` is not a tenant slug: 3-40 characters, lowercase letters, digits and '-', starting and ending with a letter or digit"],
  ],
  [
    'missing tenant for a policy that reads it',
    withPolicies('  - { name: iso, type: row_filter, tables: [t], filter: "org = {user.tenant}" }\nassignments:\n  - { policy: iso, to: { user: bob } }\n').replace(
      'policies:',
      '  - name: bob\npolicies:',
    ),
    ['6:11: user `bob` has no `tenant`, but its assigned policy `iso` reads {user.tenant}'],
  ],
  [
    'app without the tenant setting',
    'version: 1\napps:\n  - { name: pos, context: { region: app.region } }\npolicies:\n  - { name: iso, type: row_filter, tables: [t], filter: "org_id = {user.tenant_id}" }\nassignments:\n  - { policy: iso, to: all }\n',
    ['3:13: app `pos` does not map `tenant_id` in `context`, but its assigned policy `iso` reads {user.tenant_id}'],
  ],
  [
    'bad setting name and type in an app context',
    'version: 1\napps:\n  - name: storefront\n    context:\n      tenant: current_tenant\n      tenant_id: { setting: app.tid, type: text }\n',
    [
      '5:15: `current_tenant` is not a custom setting name: use a prefix and a dot, such as app.current_tenant',
      '6:29: context `tenant_id` is read as text, but {user.tenant_id} is uuid; set `type: uuid`',
    ],
  ],
  [
    'attribute typed differently for two users',
    'version: 1\nusers:\n  - { name: a, attributes: { clearance: "2" } }\n  - { name: b, attributes: { clearance: 3 } }\n',
    ['4:30: attribute `clearance` is an integer here but a string for user `a` (line 3); an attribute has one type for everyone'],
  ],
  [
    'built-in attribute set in attributes',
    'version: 1\nusers:\n  - { name: a, attributes: { tenant: acme } }\n',
    ["3:30: `tenant` is a built-in attribute and cannot be set in `attributes`; use the user's `tenant` key"],
  ],
  [
    'unknown template attribute',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = {user.tenat}" }\n'),
    [
      "7:62: unknown attribute `tenat` in {user.tenat}: it is not built in (name, tenant, tenant_id) nor declared in any user's `attributes` or app's `context` (did you mean tenant)",
    ],
  ],
  [
    '; injection',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = {user.tenant}; DROP TABLE t" }\n'),
    ['7:75: filter of policy `p`: an expression cannot contain `;`: write one SQL expression, not statements'],
  ],
  [
    'multi-statement expression',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "true); DROP TABLE t; SELECT (1" }\n'),
    ['7:61: filter of policy `p`: must be a single SQL expression, not several statements separated by `;`'],
  ],
  [
    'expression that escapes its parentheses',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "true) FROM t WHERE (true" }\n'),
    ['7:56: filter of policy `p`: must be a single SQL expression; it closes its parentheses and adds FROM, WHERE to the query'],
  ],
  [
    // Parses inside the compiler's parentheses as `(org = ...) OR (true)`; behind the guard's AND it would be
    // `visible() AND (org = ...) OR (true)`: every row.
    'filter that closes its parentheses to OR with what comes before',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = {user.tenant}) OR (true" }\n'),
    [
      "7:75: filter of policy `p`: closes a parenthesis it did not open: tenantctl writes the expression inside parentheses, and these would end them early and change how the policy's conditions group (`a) OR (b` would OR `b` with everything before it); the parentheses of the expression must balance",
    ],
  ],
  [
    // In a view, `('x'), c, ('y') AS "c"`: one more column, under the table's own name (the walker sees the
    // extra targets and says so before the balance check would).
    'mask that closes its parentheses to add a column',
    withPolicies('  - { name: p, type: column_mask, table: t, column: c, mask: "\'x\'), c, (\'y\'" }\n'),
    ['7:63: mask of policy `p`: must be a single SQL expression; it closes its parentheses and adds more to the query'],
  ],
  [
    'bare sub-select',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "SELECT true" }\n'),
    ['7:56: filter of policy `p`: a sub-select must be in parentheses of its own: write `(SELECT ...)`'],
  ],
  [
    'DML in an expression',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "(WITH d AS (DELETE FROM t RETURNING 1) SELECT count(*) FROM d) > 0" }\n'),
    ['7:80: filter of policy `p`: contains a data-modifying statement (DELETE); a policy may only read'],
  ],
  [
    'DDL in an expression',
    withPolicies('  - { name: p, type: column_mask, table: t, column: c, mask: "DROP TABLE t" }\n'),
    ['7:68: mask of policy `p`: syntax error at or near "TABLE"'],
  ],
  [
    'system catalog reference',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "EXISTS (SELECT 1 FROM pg_catalog.pg_authid)" }\n'),
    ['7:78: filter of policy `p` reads the system catalog `pg_catalog.pg_authid`; policies may read only governed tables and relations listed in allow_refs'],
  ],
  [
    'unqualified catalog reference in a block scalar',
    withPolicies('  - name: p\n    type: row_filter\n    tables: [t]\n    filter: |\n      org = {user.tenant}\n        AND x IN (SELECT 1 FROM pg_class)\n'),
    ['12:33: filter of policy `p` reads the system catalog `pg_class`; policies may read only governed tables and relations listed in allow_refs'],
  ],
  [
    'ungoverned relation',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "EXISTS (SELECT 1 FROM audit.log)" }\n'),
    ['7:78: filter of policy `p` reads `audit.log`, which is outside the governed schemas (public); list it in `allow_refs` if that is intended'],
  ],
  [
    'template inside a string literal',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = \'{user.tenant}\'" }\n'),
    [
      "7:63: filter of policy `p`: template {user.tenant} is not a value of its own here (it is inside a string, quoted identifier or comment, or joined to a name), so it would not be substituted; write it as a bare value, e.g. 'prefix-' || {user.tenant}",
    ],
  ],
  [
    'parameter reference',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = $1" }\n'),
    ['7:62: filter of policy `p`: parameter references such as $1 are not allowed; use a {user.<attribute>} template'],
  ],
  [
    'trailing -- comment',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = {user.tenant} -- x" }\n'),
    ['7:76: filter of policy `p`: the expression ends inside a `--` comment; remove it or use /* ... */'],
  ],
  [
    'function with side effects',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "pg_sleep(10) IS NULL" }\n'),
    ['7:56: filter of policy `p`: calls `pg_sleep`, which has side effects or reads server state; it is not allowed in a policy'],
  ],
  [
    'set-returning function',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "generate_series(1, 2) > 0" }\n'),
    [
      '7:56: filter of policy `p`: calls the set-returning function `generate_series`; a policy expression must return one value (use it inside a subquery or ANY(...))',
    ],
  ],
  [
    'malformed template',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "org = {users.tenant}" }\n'),
    ['7:62: filter of policy `p`: malformed template `{users.tenant}`; write {user.<attribute>}, e.g. {user.tenant}'],
  ],
  [
    'mask priority tie',
    withPolicies(
      '  - { name: m1, type: column_mask, table: customers, column: ssn, mask: "\'x\'" }\n  - { name: m2, type: column_mask, table: public.customers, column: ssn, mask: "\'y\'" }\nassignments:\n  - { policy: m1, to: all }\n  - { policy: m2, to: all }\n',
    ),
    ['11:15: mask tie on customers.ssn for user `alice`: policies `m1` and `m2` both have priority 100 and are assigned to: all; give one a lower priority'],
  ],
  [
    'table and tables together',
    withPolicies('  - { name: a, type: row_filter, table: t, tables: [u], filter: "true" }\n'),
    ['7:44: policy `a` has both `table` and `tables`; use one'],
  ],
  [
    'table outside the governed schemas',
    withPolicies('  - { name: a, type: table_deny, tables: [publik.t, a.b.c] }\n'),
    [
      '7:43: table `publik.t` is not in a governed schema (schemas: public) (did you mean public.t)',
      '7:53: `a.b.c` is not a table name; write name, schema.name, or a glob such as raw_*',
    ],
  ],
  ['system schema governed', 'version: 1\nschemas: [public, pg_catalog]\n', ['2:19: schema `pg_catalog` cannot be governed: it is a system or tenantctl schema']],
  [
    'expression joined to a set operation',
    withPolicies('  - { name: p, type: column_mask, table: t, column: c, mask: "1) UNION SELECT (2" }\n'),
    ['7:63: mask of policy `p`: must be a single SQL expression; it closes its parentheses and adds UNION to the query'],
  ],
  [
    'row-locking subquery',
    withPolicies('  - { name: p, type: column_mask, table: t, column: c, mask: "(SELECT c FROM t FOR UPDATE)" }\n'),
    ['7:63: mask of policy `p`: a subquery with FOR UPDATE/FOR SHARE locks rows; not allowed in a policy'],
  ],
  [
    "tenantctl's run-time table",
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "EXISTS (SELECT 1 FROM tenantctl.principals)" }\n'),
    ["7:78: filter of policy `p` reads `tenantctl.principals`, tenantctl's own run-time table; use {user.<attribute>} templates instead"],
  ],
  [
    'internal function called directly',
    withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "tenantctl.attr(\'tenant\') = org" }\n'),
    ['7:56: filter of policy `p`: calls `tenantctl.attr`, an internal function; use a {user.<attribute>} template'],
  ],
  ['unresolved YAML alias', 'version: 1\nusers: *foo\n', ['2:9: YAML error: unknown alias `*foo`: an alias must come after its anchor (`&foo`)']],
  ['bad SCRAM verifier', 'version: 1\nusers:\n  - { name: eve, password: { scram: "not-a-verifier-s3cret" } }\n', ["3:28: user `eve`: `scram` is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)"]],
];

describe('validate reports each bad input with its position', () => {
  test.each(cases)('%s', async (_name, text, expected) => {
    expect(await errorsOf(text)).toEqual(expected);
  });

  test('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });
});

describe('collecting and ordering', () => {
  test('every error in the file is reported, sorted by position', async () => {
    const text = 'version: 1\nusers:\n  - { name: alice, tenant: ACME }\n  - { name: alice }\npolicies:\n  - { name: p, type: table_deny, tables: [t] }\nassignments:\n  - { policy: q, to: all }\n';
    expect(await errorsOf(text)).toEqual([
      "3:28: tenant `ACME` is not a tenant slug: 3-40 characters, lowercase letters, digits and '-', starting and ending with a letter or digit",
      '4:13: duplicate user `alice` (first defined at line 3)',
      '8:15: unknown policy `q` in assignment',
    ]);
  });

  test('a tie is broken by priority, then by a more specific assignment', async () => {
    const text = `version: 1
roles: [{ name: support }]
users:
  - { name: alice, roles: [support] }
  - { name: bob }
policies:
  - { name: m1, type: column_mask, table: customers, column: ssn, mask: "'a'" }
  - { name: m2, type: column_mask, table: customers, column: ssn, mask: "'b'" }
  - { name: m3, type: column_mask, table: customers, column: ssn, mask: "'c'" }
  - { name: d, type: column_deny, table: customers, columns: [ssn] }
assignments:
  - { policy: m1, to: all }
  - { policy: m2, to: { role: support } }
  - { policy: m3, to: { user: bob } }
  - { policy: d, to: all }
`;
    expect(await errorsOf(text)).toEqual([]);
  });

  test('one tie affecting several users is one error', async () => {
    const text = `version: 1
users: [{ name: a }, { name: b }, { name: c }]
policies:
  - { name: m1, type: column_mask, table: t, column: x, mask: "'a'" }
  - { name: m2, type: column_mask, table: t, column: x, mask: "'b'" }
assignments:
  - { policy: m1, to: all, priority: 5 }
  - { policy: m2, to: all, priority: 5 }
`;
    expect(await errorsOf(text)).toEqual([
      '8:15: mask tie on t.x for user `a` (and 2 more): policies `m1` and `m2` both have priority 5 and are assigned to: all; give one a lower priority',
    ]);
  });

  test('allow_refs admits an ungoverned relation', async () => {
    const text = withPolicies('  - { name: p, type: row_filter, tables: [t], filter: "EXISTS (SELECT 1 FROM audit.log)", allow_refs: [audit.log] }\n');
    expect(await errorsOf(text)).toEqual([]);
  });
});

describe('warnings and secrets', () => {
  test('a clear-text password warns, and no message ever contains a password', async () => {
    const text = 'version: 1\nusers:\n  - { name: alice, password: { value: s3cret-value } }\n  - { name: bob, password: { scram: "bad-s3cret" } }\n  - { name: carol, password: { value: 7 } }\n';
    const result = await checkPolicyText(text);
    const all = [...result.errors, ...result.warnings];
    expect(all.map((d) => d.message).join('\n')).not.toMatch(/s3cret/);
    expect(await warningsOf('version: 1\nusers:\n  - { name: alice, password: { value: s3cret-value } }\n')).toEqual([
      '3:30: user `alice`: a clear-text `password: { value }` is for demos only; use { env: VAR } or { scram: VERIFIER }',
    ]);
  });

  test('an unknown name in except is a warning: it excludes nobody', async () => {
    const text = withPolicies('  - { name: p, type: table_deny, tables: [t] }\nassignments:\n  - { policy: p, to: all, except: [{ user: alicia }] }\n');
    expect(await errorsOf(text)).toEqual([]);
    expect(await warningsOf(text)).toEqual(['9:44: unknown user `alicia` in `except`: it is not in this file, so it excludes nobody (did you mean alice)']);
  });
});
