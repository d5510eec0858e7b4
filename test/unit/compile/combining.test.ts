// The "Combining" rules of policy-language.md, one by one, on small in-memory catalogs.
import { describe, expect, test } from 'vitest';
import { VISIBLE } from '../../../src/compile/compile.js';
import type { DesiredState, Persona, PersonaTable } from '../../../src/compile/types.js';
import { compileErrors, desiredOf, shop } from '../helpers/catalog.js';

const TENANT = "(SELECT tenantctl.attr('tenant'))";

/** The single persona of a one-user file. */
function only(desired: DesiredState): Persona {
  expect(desired.personas).toHaveLength(1);
  return desired.personas[0] as Persona;
}

function table(persona: Persona, name: string): PersonaTable | undefined {
  return persona.tables.find((t) => t.table.name === name);
}

const names = (t: PersonaTable | undefined): string[] => (t?.columns ?? []).map((c) => c.name);

/** One user `alice` (tenant acme, given access) and the given policies and assignments. */
function file(policies: string, assignments: string, opts: { mode?: string; access?: string; users?: string } = {}): string {
  return `version: 1
${opts.mode ? `mode: ${opts.mode}\n` : ''}roles:
  - name: support
users:
  - name: alice
    tenant: acme
    access: ${opts.access ?? 'read'}
${opts.users ?? ''}policies:
${policies}
assignments:
${assignments}
`;
}

const ISO = `  - name: iso
    type: row_filter
    tables: [customers, orders, products]
    filter: "org = {user.tenant}"`;

describe('rule 1: table_deny', () => {
  test('removes the table, even where a row filter and a column_allow target it', async () => {
    const persona = only(
      await desiredOf(
        file(
          `${ISO}
  - name: everything
    type: column_allow
    tables: ["*"]
  - name: no-customers
    type: table_deny
    tables: [customers]`,
          `  - { policy: iso, to: all }
  - { policy: everything, to: all }
  - { policy: no-customers, to: all }`,
        ),
      ),
    );
    expect(persona.tables.map((t) => t.table.name)).toEqual(['orders', 'products']);
    expect(persona.policies).toEqual(['everything', 'iso', 'no-customers']);
  });

  test('an unassigned table_deny changes nothing', async () => {
    const persona = only(
      await desiredOf(
        file(
          `${ISO}
  - name: no-customers
    type: table_deny
    tables: [customers]`,
          `  - { policy: iso, to: all }`,
        ),
      ),
    );
    expect(persona.tables.map((t) => t.table.name)).toEqual(['customers', 'orders', 'products']);
    expect(persona.policies).toEqual(['iso']);
  });
});

describe('rule 2: visibility', () => {
  test('policy_required: a table with neither row_filter nor column_allow has no rows predicate but keeps its columns', async () => {
    const persona = only(
      await desiredOf(
        file(
          `  - name: iso
    type: row_filter
    tables: [customers]
    filter: "org = {user.tenant}"
  - name: hide-margin
    type: column_deny
    table: products
    columns: [margin]`,
          `  - { policy: iso, to: all }
  - { policy: hide-margin, to: all }`,
        ),
      ),
    );
    const products = table(persona, 'products');
    expect(products).toBeDefined();
    expect(products?.rows).toBeUndefined();
    expect('rows' in (products as object)).toBe(false);
    expect(names(products)).toEqual(['id', 'org', 'name', 'cost_price']);
    const orders = table(persona, 'orders');
    expect(orders?.rows).toBeUndefined();
    expect(names(orders)).toEqual(['id', 'org', 'customer_id', 'total']);
    expect(table(persona, 'customers')?.rows).toBe(`(org = ${TENANT})`);
  });

  test('open mode: every governed table is readable behind the guard alone', async () => {
    const persona = only(
      await desiredOf(
        file(
          `  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]`,
          `  - { policy: hide-cc, to: all }`,
          { mode: 'open' },
        ),
      ),
    );
    expect(VISIBLE).toBe('(SELECT tenantctl.visible())');
    expect(persona.tables.map((t) => [t.table.name, t.rows])).toEqual([
      ['customers', '(SELECT tenantctl.visible())'],
      ['orders', '(SELECT tenantctl.visible())'],
      ['products', '(SELECT tenantctl.visible())'],
    ]);
  });

  test('policy_required: a column_allow alone makes a table readable (guard only)', async () => {
    const persona = only(
      await desiredOf(
        file(
          `  - name: see-products
    type: column_allow
    tables: [products]`,
          `  - { policy: see-products, to: all }`,
        ),
      ),
    );
    expect(table(persona, 'products')?.rows).toBe('(SELECT tenantctl.visible())');
    expect(table(persona, 'customers')?.rows).toBeUndefined();
  });
});

describe('rule 3: rows', () => {
  test('several row_filters are ANDed in file order behind the guard', async () => {
    const persona = only(
      await desiredOf(
        file(
          `  - name: iso
    type: row_filter
    tables: [orders]
    filter: "org = {user.tenant}"
  - name: positive
    type: row_filter
    tables: [orders]
    filter: "total > 0 OR total IS NULL"
  - name: own-customers
    type: row_filter
    tables: [orders]
    filter: "customer_id IN (SELECT id FROM customers WHERE org = {user.tenant})"`,
          `  - { policy: iso, to: all }
  - { policy: positive, to: all }
  - { policy: own-customers, to: all }`,
        ),
      ),
    );
    expect(table(persona, 'orders')?.rows).toBe(
      `(org = (SELECT tenantctl.attr('tenant'))) AND (total > 0 OR total IS NULL) AND (customer_id IN (SELECT id FROM customers WHERE org = (SELECT tenantctl.attr('tenant'))))`,
    );
    // The subquery reads customers: its owner needs SELECT on the columns the filter names there.
    expect(persona.referenced).toEqual([{ table: { schema: 'public', name: 'customers' }, columns: ['id', 'org'] }]);
  });

  test('a filter assigned only to another user does not reach alice', async () => {
    const desired = await desiredOf(
      file(
        `${ISO}
  - name: positive
    type: row_filter
    tables: [orders]
    filter: "total > 0"`,
        `  - { policy: iso, to: all }
  - { policy: positive, to: { user: bob } }`,
        { users: '  - name: bob\n    tenant: globex\n' },
      ),
    );
    const of = (user: string) => desired.personas.find((p) => p.members.includes(user)) as Persona;
    expect(table(of('alice'), 'orders')?.rows).toBe(`(org = ${TENANT})`);
    expect(table(of('bob'), 'orders')?.rows).toBe(`(org = ${TENANT}) AND (total > 0)`);
  });

  // BUG: a row_filter policy reached by two assignments (to: all and to: { user }) is ANDed twice, so the
  // user gets `... AND (f) AND (f)` and a persona of its own although its access equals everyone else's.
  test('a row_filter reached by two assignments is ANDed once (and the access is shared)', async () => {
    const desired = await desiredOf(
      file(ISO, `  - { policy: iso, to: all }\n  - { policy: iso, to: { user: alice } }`, { users: '  - name: bob\n    tenant: globex\n' }),
    );
    expect(desired.personas.flatMap((p) => p.tables.filter((t) => t.table.name === 'orders').map((t) => t.rows))).toEqual([
      `(org = ${TENANT})`,
    ]);
    expect(desired.personas.map((p) => p.members)).toEqual([['alice', 'bob']]);
  });
});

describe('rule 4: columns', () => {
  test('column_deny removes the columns from the view and from the owner grants', async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `${ISO}
  - name: hide
    type: column_deny
    table: customers
    columns: [credit_card, ssn]`,
            `  - { policy: iso, to: all }\n  - { policy: hide, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(names(customers)).toEqual(['id', 'org', 'name']);
    expect(customers?.ownerSelect).toEqual(['id', 'name', 'org']);
  });

  test('column_allow lists keep only their union, in table order', async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `  - name: a
    type: column_allow
    tables: [customers]
    columns: [org, id]
  - name: b
    type: column_allow
    tables: [customers]
    columns: [ssn, org]`,
            `  - { policy: a, to: all }\n  - { policy: b, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(names(customers)).toEqual(['id', 'org', 'ssn']);
    expect(customers?.ownerSelect).toEqual(['id', 'org', 'ssn']);
    expect(customers?.rows).toBe(VISIBLE);
  });

  test('a list allow together with an all-columns allow keeps every column', async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `  - name: a
    type: column_allow
    tables: [customers]
    columns: [id]
  - name: all-of-it
    type: column_allow
    tables: [customers]
    columns: ["*"]`,
            `  - { policy: a, to: all }\n  - { policy: all-of-it, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(names(customers)).toEqual(['id', 'org', 'name', 'ssn', 'credit_card']);
  });

  test("column_allow '*' plus a column_deny: every column but the denied", async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `  - name: all-of-it
    type: column_allow
    tables: ["*"]
    columns: ["*"]
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]`,
            `  - { policy: all-of-it, to: all }\n  - { policy: hide-cc, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(names(customers)).toEqual(['id', 'org', 'name', 'ssn']);
    expect(customers?.ownerSelect).toEqual(['id', 'name', 'org', 'ssn']);
  });

  test('an allow list minus a deny of one of its columns', async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `  - name: a
    type: column_allow
    tables: [customers]
    columns: [id, ssn, credit_card]
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]`,
            `  - { policy: a, to: all }\n  - { policy: hide-cc, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(names(customers)).toEqual(['id', 'ssn']);
  });
});

const MASKS = `${ISO}
  - name: partial
    type: column_mask
    table: customers
    column: ssn
    mask: "'***-**-' || right(ssn, 4)"
  - name: full
    type: column_mask
    table: customers
    column: ssn
    mask: "'[RESTRICTED]'"
  - name: last2
    type: column_mask
    table: customers
    column: ssn
    mask: "right(ssn, 2)"`;

const ssnMask = (p: Persona | undefined): string | undefined => p && table(p, 'customers')?.columns.find((c) => c.name === 'ssn')?.mask;

describe('rule 5: masks', () => {
  test('the lowest priority wins, whatever the order and the specificity', async () => {
    const persona = only(
      await desiredOf(
        file(
          MASKS,
          `  - { policy: iso, to: all }
  - { policy: partial, to: { user: alice }, priority: 50 }
  - { policy: full, to: all, priority: 10 }
  - { policy: last2, to: { role: support }, priority: 20 }`,
        ),
      ),
    );
    expect(ssnMask(persona)).toBe("'[RESTRICTED]'");
  });

  test('the default priority is 100', async () => {
    const persona = only(
      await desiredOf(file(MASKS, `  - { policy: iso, to: all }\n  - { policy: partial, to: { user: alice }, priority: 101 }\n  - { policy: full, to: all }`)),
    );
    expect(ssnMask(persona)).toBe("'[RESTRICTED]'");
  });

  test('at equal priority: to user beats to role beats to all', async () => {
    const desired = await desiredOf(
      file(
        MASKS,
        `  - { policy: iso, to: all }
  - { policy: full, to: all }
  - { policy: last2, to: { role: support } }
  - { policy: partial, to: { user: alice } }`,
        {
          users: `  - name: bob
    tenant: globex
    roles: [support]
  - name: carol
    tenant: globex
  - name: dave
    tenant: acme
    roles: [support]
`,
        },
      ),
    );
    const of = (user: string) => desired.personas.find((p) => p.members.includes(user));
    expect(ssnMask(of('alice'))).toBe("'***-**-' || right(ssn, 4)");
    expect(ssnMask(of('bob'))).toBe('right(ssn, 2)');
    expect(ssnMask(of('carol'))).toBe("'[RESTRICTED]'");
    expect(desired.personas.map((p) => p.members).sort()).toEqual([['alice'], ['bob', 'dave'], ['carol']]);
  });

  test('a tie left after priority and specificity is an error at the later assignment', async () => {
    // Two different globs are not known to overlap before the catalog is read: the compiler finds the tie.
    const errors = await compileErrors(`version: 1
users:
  - name: alice
    tenant: acme
policies:
  - name: m1
    type: column_mask
    table: "cust*"
    column: ssn
    mask: "'x'"
  - name: m2
    type: column_mask
    table: "c*"
    column: ssn
    mask: "'y'"
assignments:
  - { policy: m1, to: all }
  - { policy: m2, to: all }
`);
    expect(errors).toEqual([
      {
        file: 'policies.yaml',
        line: 18,
        column: 15,
        severity: 'error',
        message: 'masks `m1` and `m2` tie for alice on customers.ssn (same priority 100, both to: all); give one a lower priority',
      },
    ]);
  });

  test('a tie is reported for the principal of each shape, also where other shapes have the same assignments on the table', async () => {
    // alice (read) and bob (readwrite) have different shapes and the same masks on customers: the tables the
    // shapes share are computed once, but a table with a diagnostic is computed, and reported, for each.
    const errors = await compileErrors(`version: 1
users:
  - name: alice
    tenant: acme
  - name: bob
    tenant: globex
    access: readwrite
policies:
  - name: m1
    type: column_mask
    table: "cust*"
    column: ssn
    mask: "'x'"
  - name: m2
    type: column_mask
    table: "c*"
    column: ssn
    mask: "'y'"
assignments:
  - { policy: m1, to: all }
  - { policy: m2, to: all }
`);
    expect(errors.map((e) => e.message)).toEqual([
      'masks `m1` and `m2` tie for alice on customers.ssn (same priority 100, both to: all); give one a lower priority',
      'masks `m1` and `m2` tie for bob on customers.ssn (same priority 100, both to: all); give one a lower priority',
    ]);
  });

  test('shapes that share tables get the same tables as if each were computed alone', async () => {
    // carol's role denies a column on orders only; alice and bob (read, readwrite) see everything. Each
    // persona's tables are what a persona of its principal alone gets.
    const yaml = (users: string) => `version: 1
roles:
  - name: restricted
users:
${users}
policies:
  - name: iso
    type: row_filter
    tables: [customers, orders, products]
    filter: "org = {user.tenant}"
  - name: partial
    type: column_mask
    table: customers
    column: ssn
    mask: "'***-**-' || right(ssn, 4)"
  - name: no-total
    type: column_deny
    table: orders
    columns: [total]
assignments:
  - { policy: iso, to: all }
  - { policy: partial, to: all }
  - { policy: no-total, to: { role: restricted } }
`;
    const users = {
      alice: '  - name: alice\n    tenant: acme',
      bob: '  - name: bob\n    tenant: globex\n    access: readwrite',
      carol: '  - name: carol\n    tenant: acme\n    roles: [restricted]',
      dave: '  - name: dave\n    tenant: acme\n    access: readwrite\n    roles: [restricted]',
    };
    const together = await desiredOf(yaml(Object.values(users).join('\n')));
    expect(together.personas).toHaveLength(4);
    for (const [name, user] of Object.entries(users)) {
      const alone = only(await desiredOf(yaml(user)));
      const persona = together.personas.find((p) => p.members.includes(name));
      expect(persona?.id).toBe(alone.id);
      expect(persona?.tables).toEqual(alone.tables);
      expect(persona?.referenced).toEqual(alone.referenced);
    }
  });

  test('a denied column is absent, not masked, and never granted to the view owner', async () => {
    const customers = table(
      only(
        await desiredOf(
          file(
            `${MASKS}
  - name: hide-ssn
    type: column_deny
    table: customers
    columns: [ssn]`,
            `  - { policy: iso, to: all }\n  - { policy: partial, to: all }\n  - { policy: hide-ssn, to: all }`,
          ),
        ),
      ),
      'customers',
    );
    expect(customers?.columns).toEqual([{ name: 'id' }, { name: 'org' }, { name: 'name' }, { name: 'credit_card' }]);
    expect(customers?.ownerSelect).toEqual(['credit_card', 'id', 'name', 'org']);
  });

  test('the columns a mask reads are in ownerSelect; a constant mask needs no grant on its column', async () => {
    const desired = await desiredOf(
      file(
        `${MASKS}
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]`,
        `  - { policy: iso, to: all }
  - { policy: hide-cc, to: all }
  - { policy: partial, to: { user: alice } }
  - { policy: full, to: { user: bob } }`,
        { users: '  - name: bob\n    tenant: globex\n' },
      ),
    );
    const of = (user: string) => table(desired.personas.find((p) => p.members.includes(user)) as Persona, 'customers');
    expect(of('alice')?.columns).toEqual([{ name: 'id' }, { name: 'org' }, { name: 'name' }, { name: 'ssn', mask: "'***-**-' || right(ssn, 4)" }]);
    expect(of('alice')?.ownerSelect).toEqual(['id', 'name', 'org', 'ssn']);
    expect(of('bob')?.columns).toEqual([{ name: 'id' }, { name: 'org' }, { name: 'name' }, { name: 'ssn', mask: "'[RESTRICTED]'" }]);
    expect(of('bob')?.ownerSelect).toEqual(['id', 'name', 'org']);
  });
});

describe('rule 6: writes', () => {
  const policies = `${ISO}
  - name: partial
    type: column_mask
    table: customers
    column: ssn
    mask: "'***-**-' || right(ssn, 4)"
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]`;
  const assignments = `  - { policy: iso, to: all }\n  - { policy: partial, to: all }\n  - { policy: hide-cc, to: all }`;

  test('readwrite: ownerWrite is the unmasked visible columns; sequences come from the column defaults', async () => {
    const persona = only(await desiredOf(file(policies, assignments, { access: 'readwrite' })));
    expect(persona.access).toBe('readwrite');
    expect(table(persona, 'customers')?.ownerWrite).toEqual(['id', 'org', 'name']);
    expect(table(persona, 'customers')?.sequences).toEqual([]);
    expect(table(persona, 'orders')?.ownerWrite).toEqual(['id', 'org', 'customer_id', 'total']);
    expect(table(persona, 'orders')?.sequences).toEqual(['public.orders_id_seq']);
  });

  test('read: no write columns and no sequences', async () => {
    const persona = only(await desiredOf(file(policies, assignments)));
    expect(persona.access).toBe('read');
    expect(persona.tables.map((t) => [t.table.name, t.ownerWrite, t.sequences])).toEqual([
      ['customers', [], []],
      ['orders', [], []],
      ['products', [], []],
    ]);
  });

  test('readwrite and read users with equal policies get different personas', async () => {
    const desired = await desiredOf(file(policies, assignments, { users: '  - name: bob\n    tenant: globex\n    access: readwrite\n' }));
    expect(desired.personas.map((p) => [p.access, p.members]).sort()).toEqual([
      ['read', ['alice']],
      ['readwrite', ['bob']],
    ]);
  });
});

describe('governed tables', () => {
  test('every governed table and partition (at any depth), sorted; views and other schemas left out', async () => {
    const cat = shop({
      tables: {
        events: { columns: ['id', 'org', 'at'], kind: 'p' },
        events_2024: { columns: ['id', 'org', 'at'], kind: 'p', partitionOf: 'events' },
        events_2024_q1: { columns: ['id', 'org', 'at'], partitionOf: 'events_2024' },
        customer_summary: { columns: ['org', 'n'], kind: 'v' },
        'audit.log': ['id', 'msg'],
      },
    });
    const desired = await desiredOf(file(ISO, '  - { policy: iso, to: all }'), cat);
    expect(desired.governedTables.map((t) => `${t.schema}.${t.name}`)).toEqual([
      'public.customers',
      'public.events',
      'public.events_2024',
      'public.events_2024_q1',
      'public.orders',
      'public.products',
    ]);
    expect(only(desired).tables.map((t) => t.table.name)).toEqual(['customers', 'orders', 'products', 'events']);
  });
});

describe('tables whose visible values read no column (found by the differential fuzzer)', () => {
  test('every visible column masked by a constant: the owner may read the masked column, so the view can scan', async () => {
    const persona = only(
      await desiredOf(
        file(
          `  - { name: only-ssn, type: column_allow, tables: [customers], columns: [ssn] }
  - { name: hide, type: column_mask, table: customers, column: ssn, mask: "'[hidden]'" }`,
          `  - { policy: only-ssn, to: all }\n  - { policy: hide, to: all }`,
        ),
      ),
    );
    const customers = table(persona, 'customers');
    expect(customers?.columns).toEqual([{ name: 'ssn', mask: "'[hidden]'" }]);
    expect(customers?.ownerSelect).toEqual(['ssn']);
  });

  test('every column denied: the table does not exist for the user (no column could be granted to read it)', async () => {
    const persona = only(
      await desiredOf(
        file(
          `${ISO}\n  - { name: deny-all, type: column_deny, table: orders, columns: [id, org, customer_id, total] }`,
          `  - { policy: iso, to: all }\n  - { policy: deny-all, to: all }`,
        ),
      ),
    );
    expect(table(persona, 'orders')).toBeUndefined();
    expect(table(persona, 'customers')).toBeDefined();
  });
});
