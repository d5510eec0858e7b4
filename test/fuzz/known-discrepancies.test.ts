// Discrepancies between tenantctl and policy-language.md found by the differential fuzzer (harness.ts, KNOWN),
// reduced to a minimal file. Each `it.fails` asserts what the design says: it fails today, so it passes; a
// plain `it` pins today's behaviour, so that `it.fails` cannot pass for another reason. When tenantctl is
// fixed, both start failing: drop the `today` test and `.fails`, and the entry in KNOWN.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { migrateRegistry, policyFile } from '../helpers/demo.js';
import { disposeDatabase } from './harness.js';

const PASSWORD = 'known-pw';
let db: TestDatabase;
let masked: postgres.Sql;
let denied: postgres.Sql;
const name = (n: string): string => `${n}_${db.name.slice(-6)}`;

// kmask: column_allow keeps only `name`, which is masked with a constant (seed 1, case 90, shrunk).
// kdeny: every column denied (seed 1, case 2, shrunk).
const policies = (): string => `version: 1
mode: open
users:
  - { name: ${name('kmask')}, password: { env: KNOWN_PASSWORD }, tenant: acme }
  - { name: ${name('kdeny')}, password: { env: KNOWN_PASSWORD }, tenant: acme }
policies:
  - { name: only-name, type: column_allow, tables: [accounts], columns: [name] }
  - { name: hide-name, type: column_mask, table: accounts, column: name, mask: "'[hidden]'" }
  - { name: deny-all, type: column_deny, table: accounts, columns: [id, name, note] }
assignments:
  - { policy: only-name, to: { user: ${name('kmask')} } }
  - { policy: hide-name, to: { user: ${name('kmask')} } }
  - { policy: deny-all, to: { user: ${name('kdeny')} } }
`;

beforeAll(async () => {
  db = await freshDatabase('fzknown');
  await db.sql.unsafe(`CREATE TABLE accounts (id integer PRIMARY KEY, name text, note text);
    INSERT INTO accounts VALUES (1, 'Ann', 'x'), (2, 'Bob', 'y');`);
  await migrateRegistry(db.url);
  await db.sql`INSERT INTO tenant_registry.tenants (slug, name, status) VALUES ('acme', 'Acme', 'active')`;
  const r = await runCli(['apply', policyFile(policies()), '--yes'], { env: { DATABASE_URL: db.url, KNOWN_PASSWORD: PASSWORD } });
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
  masked = postgres(db.urlFor(name('kmask'), PASSWORD), { max: 1, onnotice: () => {} });
  denied = postgres(db.urlFor(name('kdeny'), PASSWORD), { max: 1, onnotice: () => {} });
});

afterAll(async () => {
  await Promise.all([masked?.end(), denied?.end()]);
  await disposeDatabase(db, [name('kmask'), name('kdeny')]);
});

// The persona's view reads no column of accounts (a constant mask, or no column at all), so its owner is
// granted SELECT on no column of it, and PostgreSQL refuses the view's scan of the base table.
describe('a table whose visible values read no column of it (KNOWN.readsNoColumn)', () => {
  it('today: reading it fails with "permission denied for table accounts" (42501)', async () => {
    await expect(masked`SELECT * FROM accounts`).rejects.toMatchObject({ code: '42501', message: 'permission denied for table accounts' });
    await expect(denied`SELECT count(*) FROM accounts`).rejects.toMatchObject({ code: '42501', message: 'permission denied for table accounts' });
  });

  // Rules 4 and 5: the only visible column is `name`, which reads as its mask.
  it.fails('every visible column masked by a constant: the user reads the rows with the masked values', async () => {
    expect(await masked`SELECT * FROM accounts`).toEqual([{ name: '[hidden]' }, { name: '[hidden]' }]);
  });

  // Rule 1 removes a table only for table_deny; rule 4 leaves no column: the table exists with no columns.
  it.fails('every column denied: the table exists, with its rows and no columns', async () => {
    expect(await denied`SELECT count(*)::int AS n FROM accounts`).toEqual([{ n: 2 }]);
  });
});
