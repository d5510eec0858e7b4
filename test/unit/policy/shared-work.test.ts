// The work that validation and the compiler share between principals (effective assignments per class of
// principals, mask ties per assignment set, one analysis per expression text) must give exactly what the
// per-principal computation gives.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { checkPolicyText } from '../../../src/policy/check.js';
import { effectiveAssignments, principals, selects, VIA_RANK, type EffectiveAssignment, type Via } from '../../../src/policy/effective.js';
import { analyseExpression, analyseExpressionUncached } from '../../../src/policy/expression.js';
import { chooseMask, findMaskTies, type MaskAssignment } from '../../../src/policy/masks.js';
import type { PolicyModel, Principal, PrincipalSelector } from '../../../src/policy/model.js';
import { loadSqlParser } from '../../../src/policy/pg-parser.js';
import { tableRefsOverlap, tableRefText } from '../../../src/policy/tables.js';
import { checkMaskTies, checkTenantNeeded } from '../../../src/policy/validate-assignments.js';

/** effectiveAssignments as it was written before the per-class sharing: every principal computed alone. */
function referenceAssignments(model: PolicyModel, principal: Principal): EffectiveAssignment[] {
  const best = (selectors: readonly PrincipalSelector[]): { via: Via; role?: string } | undefined => {
    let found: { via: Via; role?: string } | undefined;
    for (const s of selectors) {
      const m = selects(s, principal);
      if (m && (!found || VIA_RANK[m.via] < VIA_RANK[found.via])) found = m;
    }
    return found;
  };
  const out: EffectiveAssignment[] = [];
  for (const assignment of model.assignments) {
    const policy = model.policies.find((p) => p.name === assignment.policy);
    if (!policy) continue;
    const match = best(assignment.to);
    if (!match || best(assignment.except)) continue;
    out.push(match.role === undefined ? { assignment, policy, via: match.via } : { assignment, policy, via: match.via, role: match.role });
  }
  return out;
}

/** findMaskTies as it was written before: per principal, a quadratic scan. */
function referenceTies(model: PolicyModel, principal: Principal) {
  const masks = referenceAssignments(model, principal).filter((e): e is MaskAssignment => e.policy.type === 'column_mask');
  const ties = [];
  const seen = new Set<string>();
  for (const m of masks) {
    for (const table of m.policy.tables) {
      const candidates = masks.filter((o) => o.policy.column.name === m.policy.column.name && o.policy.tables.some((t) => tableRefsOverlap(t, table)));
      const choice = chooseMask(candidates);
      if (choice.kind !== 'tie') continue;
      const key = choice.tied.map((t) => t.policy.name).sort().join('\u0000') + '\u0000' + m.policy.column.name;
      if (seen.has(key)) continue;
      seen.add(key);
      ties.push({ principal, table: tableRefText(table), column: m.policy.column.name, tied: choice.tied });
    }
  }
  return ties;
}

const ROLES = ['r1', 'r2', 'r3'];
const USERS = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6'];
const APPS = ['a1', 'a2'];

const selector = fc.oneof(
  fc.constant('all' as const),
  fc.constantFrom(...ROLES).map((role) => ({ role })),
  fc.constantFrom(...USERS).map((user) => ({ user })),
  fc.constantFrom(...APPS).map((app) => ({ app })),
);

/** A valid policy file (as JSON, which is YAML): users in random roles, masks that may tie, random to/except. */
const policyFile = fc
  .record({
    userRoles: fc.array(fc.subarray(ROLES), { minLength: USERS.length, maxLength: USERS.length }),
    userTenants: fc.array(fc.boolean(), { minLength: USERS.length, maxLength: USERS.length }),
    masks: fc.array(fc.record({ table: fc.constantFrom('t1', 't2', 't*'), column: fc.constantFrom('c1', 'c2'), reads: fc.boolean() }), { maxLength: 6 }),
    assignments: fc.array(
      fc.record({
        policy: fc.nat(),
        to: fc.array(selector, { minLength: 1, maxLength: 3 }),
        except: fc.array(selector, { maxLength: 2 }),
        priority: fc.constantFrom(100, 200),
      }),
      { maxLength: 10 },
    ),
  })
  .map((g) => {
    const policies = [
      { name: 'filter', type: 'row_filter', tables: ['t1', 't2'], filter: 'org = {user.tenant}' },
      ...g.masks.map((m, i) => ({ name: `mask-${i}`, type: 'column_mask', table: m.table, column: m.column, mask: m.reads ? `left(${m.column}, 1)` : "'x'" })),
    ];
    return JSON.stringify({
      version: 1,
      roles: ROLES.map((name) => ({ name })),
      users: USERS.map((name, i) => ({ name, roles: g.userRoles[i], ...(g.userTenants[i] ? { tenant: 'acme' } : {}) })),
      apps: APPS.map((name) => ({ name, context: { tenant: 'app.tenant' } })),
      policies,
      assignments: g.assignments.map((a) => ({
        policy: policies[a.policy % policies.length]!.name,
        to: a.to,
        ...(a.except.length > 0 ? { except: a.except } : {}),
        priority: a.priority,
      })),
    });
  });

async function modelOf(text: string): Promise<PolicyModel> {
  const r = await checkPolicyText(text);
  // Ties and missing tenants are errors, but the model is what validation ran on: rebuild it without them.
  if (r.model) return r.model;
  const { normalise } = await import('../../../src/policy/normalise.js');
  const { parsePolicyText } = await import('../../../src/policy/load.js');
  const { PolicyFileSchema } = await import('../../../src/policy/schema.js');
  const loaded = parsePolicyText(text, 'policies.yaml');
  if (!loaded.ok) throw new Error('unparsable');
  return normalise(loaded.source, PolicyFileSchema.parse(loaded.value)).model;
}

describe('shared per-class work gives the per-principal results', () => {
  test('effectiveAssignments, findMaskTies, checkTenantNeeded and checkMaskTies on random files', async () => {
    await loadSqlParser();
    await fc.assert(
      fc.asyncProperty(policyFile, async (text) => {
        const model = await modelOf(text);
        for (const p of principals(model)) {
          expect(effectiveAssignments(model, p)).toEqual(referenceAssignments(model, p));
          expect(findMaskTies(model, p)).toEqual(referenceTies(model, p));
          // Twice: the second call answers from the cache.
          expect(effectiveAssignments(model, p)).toEqual(referenceAssignments(model, p));
          expect(findMaskTies(model, p)).toEqual(referenceTies(model, p));
        }
        // Principals of one class get the same answers, each naming itself.
        for (const p of principals(model)) for (const tie of findMaskTies(model, p)) expect(tie.principal).toBe(p);
        expect(checkMaskTies(model).length).toBeGreaterThanOrEqual(0);
        for (const p of principals(model)) {
          const reads = referenceAssignments(model, p).find((e) => e.policy.type === 'row_filter');
          const errors = checkTenantNeeded(model, p).map((d) => d.message);
          if (p.kind === 'user' && !p.tenant && reads) expect(errors).toEqual([`user \`${p.name}\` has no \`tenant\`, but its assigned policy \`filter\` reads {user.tenant}`]);
          else expect(errors).toEqual([]);
        }
      }),
      { numRuns: 150 },
    );
  });

  test('a model built from another (other assignments) is not answered from the first one\'s cache', async () => {
    await loadSqlParser();
    const model = await modelOf(`version: 1
roles: [{ name: support }]
users:
  - { name: alice, roles: [support], tenant: acme }
  - { name: bob, tenant: acme }
policies:
  - { name: f, type: row_filter, tables: [t], filter: "org = {user.tenant}" }
  - { name: m, type: column_mask, table: t, column: email, mask: "'x'" }
assignments:
  - { policy: f, to: all }
  - { policy: m, to: { role: support } }
`);
    const alice = model.users[0]!;
    const bob = model.users[1]!;
    const names = (m: PolicyModel, p: Principal) => effectiveAssignments(m, p).map((e) => `${e.policy.name}:${e.via}`);
    expect(names(model, alice)).toEqual(['f:all', 'm:role']);
    expect(names(model, bob)).toEqual(['f:all']);
    const fewer: PolicyModel = { ...model, assignments: model.assignments.slice(1) };
    expect(names(fewer, alice)).toEqual(['m:role']);
    expect(names(fewer, bob)).toEqual([]);
    // Callers get their own array: changing it changes nothing for the next caller.
    const list = effectiveAssignments(model, alice);
    list.pop();
    expect(names(model, alice)).toEqual(['f:all', 'm:role']);
  });
});

describe('one analysis per expression text', () => {
  const TEXTS = [
    'org = {user.tenant}',
    "'***@' || split_part(email, '@', 2)",
    'region = ANY({user.regions}) AND level <= {user.clearance}',
    'org = {user.tenant}; DROP TABLE t',
    'id IN (SELECT id FROM other WHERE x = {user.tenant})',
    'pg_sleep(1) IS NULL',
    '(org = ',
    '',
    "'{user.tenant}' = org",
    'org = $1',
  ];

  test('the cached analysis equals a fresh one, and is shared and frozen', async () => {
    await loadSqlParser();
    for (const text of TEXTS) {
      const first = analyseExpression(text);
      expect(first).toEqual(analyseExpressionUncached(text));
      expect(analyseExpression(text)).toBe(first);
      expect(Object.isFrozen(first)).toBe(true);
      expect(Object.isFrozen(first.problems)).toBe(true);
    }
    expect(analyseExpression('org = {user.tenant}').templates).toEqual([{ attribute: 'tenant', start: 6, end: 19 }]);
    expect(analyseExpression('pg_sleep(1) IS NULL').problems.map((p) => p.message)).toEqual([
      'calls `pg_sleep`, which has side effects or reads server state; it is not allowed in a policy',
    ]);
  });

  test('two policies with one mask text get equal expressions, each with its own positions', async () => {
    const r = await checkPolicyText(`version: 1
users: [{ name: alice, tenant: acme }]
policies:
  - { name: m1, type: column_mask, table: t1, column: email, mask: "left(email, 1)" }
  - { name: m2, type: column_mask, table: t2, column: email, mask: "left(email, 1)" }
assignments:
  - { policy: m1, to: all }
  - { policy: m2, to: all }
`);
    const [m1, m2] = r.model!.policies;
    if (m1?.type !== 'column_mask' || m2?.type !== 'column_mask') throw new Error('masks expected');
    expect(m1.mask.columns).toEqual(m2.mask.columns);
    expect(m1.mask.pos.line).toBe(4);
    expect(m2.mask.pos.line).toBe(5);
  });
});
