// The statements that take ACCESS EXCLUSIVE locks on governed tables and persona views (ALTER TABLE, DROP VIEW,
// CREATE/DROP POLICY) hold them until COMMIT, and clients' reads queue behind them. A deploy that adds many users
// and changes a policy in one apply must run the per-user statements (CREATE ROLE, GRANT membership, ALTER ROLE
// SET search_path, the principals rows) before the first such lock, not while holding it
// (bench/online-provisioning.mjs measured the difference).
import { beforeAll, describe, expect, test } from 'vitest';
import type { CatalogState } from '../../../src/catalog/types.js';
import type { Plan, Step } from '../../../src/plan/types.js';
import { appliedCatalog, catalog, desiredOf, planOf, SHOP } from '../helpers/catalog.js';

const users = (from: number, count: number): string =>
  Array.from({ length: count }, (_, i) => i + from)
    .map((i) => `  - name: u${i}\n    tenant: ${i % 2 === 0 ? 'acme' : 'globex'}\n    password: { env: PW }\n${i % 3 === 0 ? '    access: readwrite\n' : ''}`)
    .join('');

const file = (userList: string, mask: string, filter: string): string => `version: 1
users:
${userList}policies:
  - name: iso
    type: row_filter
    tables: [customers, orders]
    filter: "${filter}"
  - name: mask-ssn
    type: column_mask
    table: customers
    column: ssn
    mask: "${mask}"
assignments:
  - { policy: iso, to: all }
  - { policy: mask-ssn, to: all }
`;

const BASE = catalog({ registryTenants: ['acme', 'globex'], tables: SHOP });
const BEFORE = file(users(1, 4), "'***-**-' || right(ssn, 4)", 'org = {user.tenant}');
// Twenty more users, a new mask (views replaced) and a new row filter (policies replaced), in one file.
const AFTER = file(users(1, 24), "'[RESTRICTED]'", "org = {user.tenant} AND id IS NOT NULL");

/** The statements of a step that take an ACCESS EXCLUSIVE lock on a table or view. */
const TABLE_LOCKING = /^(ALTER TABLE|DROP VIEW|CREATE POLICY|DROP POLICY|ALTER POLICY|DROP SCHEMA)\b/;
/** Statements whose number grows with the number of logins in the file. */
const PER_LOGIN = /^(CREATE ROLE "u\d+"|COMMENT ON ROLE "u\d+"|GRANT "[^"]+" TO "u\d+"|ALTER ROLE "u\d+"|INSERT INTO tenantctl\.principals)/;

const statements = (steps: readonly Step[]): string[] => steps.flatMap((s) => s.sql);

let applied: CatalogState;
let result: Plan;

beforeAll(async () => {
  applied = appliedCatalog(await desiredOf(BEFORE, BASE), BASE);
  result = planOf(await desiredOf(AFTER, applied), applied);
});

describe('per-login steps run before the steps that lock tables', () => {
  test('the plan adds the users and replaces views and policies', () => {
    expect(result.errors).toEqual([]);
    const all = statements(result.steps);
    expect(all.filter((q) => q.startsWith('CREATE ROLE "u')).length).toBe(20);
    expect(all.filter((q) => q.startsWith('INSERT INTO tenantctl.principals')).length).toBe(20);
    expect(all.filter((q) => q.startsWith('ALTER ROLE "u') && q.includes('SET search_path')).length).toBe(20);
    expect(all.filter((q) => q.startsWith('DROP VIEW')).length).toBeGreaterThan(0);
    expect(all.filter((q) => q.startsWith('DROP POLICY')).length).toBeGreaterThan(0);
  });

  test('no per-login statement after the first table-locking statement', () => {
    const all = statements(result.steps);
    const firstLock = all.findIndex((q) => TABLE_LOCKING.test(q));
    expect(firstLock).toBeGreaterThan(0);
    expect(all.slice(firstLock).filter((q) => PER_LOGIN.test(q))).toEqual([]);
    // ... and every per-login statement comes before it.
    const perLogin = all.map((q, i) => [q, i] as const).filter(([q]) => PER_LOGIN.test(q));
    expect(perLogin.length).toBe(20 * 4 + 20); // role + comment, membership, search_path per user; 20 principals rows
    expect(Math.max(...perLogin.map(([, i]) => i))).toBeLessThan(firstLock);
  });

  test('search_path settings and principals rows come right after roles and memberships, in plan order', () => {
    const kinds = result.steps
      .map((s) => (s.object.startsWith('search_path of ') ? 'search_path' : s.object.startsWith('principal ') ? 'principal' : s.object.split(' ')[0]))
      .filter((k, i, all) => all[i - 1] !== k);
    expect(kinds.slice(0, 4)).toEqual(['role', 'membership', 'search_path', 'principal']);
    expect(result.steps.every((s, i, all) => i === 0 || (all[i - 1] as Step).phase <= s.phase)).toBe(true);
  });
});
