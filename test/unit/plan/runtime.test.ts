// Drift of tenantctl's runtime schema (src/plan/runtime.ts) and how plan uses it: which record says nothing,
// what is named, the statements that put the record back, and the error apply raises when they did not.
// test/integration/drift.test.ts makes the same changes in a real database and applies the fixes.
import { beforeAll, describe, expect, test } from 'vitest';
import type { CatalogState } from '../../../src/catalog/types.js';
import type { DesiredState } from '../../../src/compile/types.js';
import { RUNTIME_KEY } from '../../../src/plan/render.js';
import { parseRuntimeState, runtimeDrift, runtimeDriftOf, runtimeNotRestored, type RuntimeState } from '../../../src/plan/runtime.js';
import { APPLIED_RUNTIME_STATE, appliedCatalog, catalog, desiredOf, planOf, SHOP } from '../helpers/catalog.js';

const RECORDED = parseRuntimeState(APPLIED_RUNTIME_STATE) as RuntimeState;
const principals = (s: RuntimeState) => s.relations.find((r) => r.name === 'principals')!;
const withPrincipals = (s: RuntimeState, change: Partial<RuntimeState['relations'][number]>): RuntimeState => ({
  ...s,
  relations: s.relations.map((r) => (r.name === 'principals' ? { ...r, ...change } : r)),
});

describe('parseRuntimeState', () => {
  test('reads the shape RUNTIME_STATE_SQL renders', () => {
    expect(RECORDED.relations.map((r) => r.name)).toEqual(['applied', 'principals']);
    expect(RECORDED.functions.map((f) => f.name)).toEqual(['visible']);
  });

  test("an earlier version's record (the runtime's hash), bad JSON or another shape: undefined, no drift claimed", () => {
    const hash = 'a'.repeat(64);
    for (const text of [hash, '{"owner": ', '{"owner": "x"}', 'null', '[]', undefined]) expect(parseRuntimeState(text)).toBeUndefined();
    expect(runtimeDriftOf(hash, APPLIED_RUNTIME_STATE)).toBeUndefined();
    expect(runtimeDriftOf(APPLIED_RUNTIME_STATE, APPLIED_RUNTIME_STATE)).toBeUndefined();
    expect(runtimeDriftOf(APPLIED_RUNTIME_STATE, undefined)).toBeUndefined();
  });
});

describe('runtimeDrift', () => {
  test('a policy altered and a trigger changed: both recreated from their recorded text', () => {
    const own = principals(RECORDED).policies[0]!;
    const recorded = withPrincipals(RECORDED, { triggers: [['audit', 'CREATE TRIGGER audit AFTER UPDATE ON tenantctl.principals FOR EACH ROW EXECUTE FUNCTION tenantctl.visible()']] });
    const now = withPrincipals(RECORDED, {
      policies: [{ ...own, using: 'true' }],
      triggers: [['audit', 'CREATE TRIGGER audit BEFORE UPDATE ON tenantctl.principals FOR EACH ROW EXECUTE FUNCTION tenantctl.visible()']],
    });
    const drift = runtimeDrift(recorded, now);
    expect(drift?.changed).toEqual(['policy own_row on tenantctl.principals', 'trigger audit on tenantctl.principals']);
    expect(drift?.after).toEqual([
      'DROP POLICY IF EXISTS "own_row" ON "tenantctl"."principals"',
      'CREATE POLICY "own_row" ON "tenantctl"."principals" AS PERMISSIVE FOR SELECT TO PUBLIC USING ((role = SESSION_USER))',
      'DROP TRIGGER IF EXISTS "audit" ON "tenantctl"."principals"',
      'CREATE TRIGGER audit AFTER UPDATE ON tenantctl.principals FOR EACH ROW EXECUTE FUNCTION tenantctl.visible()',
    ]);
    expect(drift?.before).toEqual([]);
    expect(drift?.extras).toEqual([]);
  });

  test('a restrictive policy with a check and two roles is recreated as such', () => {
    const recorded = withPrincipals(RECORDED, {
      policies: [{ name: 'w', command: 'w', permissive: false, roles: ['a b', 'c'], using: '(kind = \'user\'::text)', withCheck: '(tenant IS NOT NULL)' }],
    });
    const drift = runtimeDrift(recorded, withPrincipals(RECORDED, { policies: [] }));
    expect(drift?.after).toEqual([
      'DROP POLICY IF EXISTS "w" ON "tenantctl"."principals"',
      `CREATE POLICY "w" ON "tenantctl"."principals" AS RESTRICTIVE FOR UPDATE TO "a b", "c" USING ((kind = 'user'::text)) WITH CHECK ((tenant IS NOT NULL))`,
    ]);
    expect(drift?.changed).toEqual(['policy w on tenantctl.principals']);
  });

  test('a function dropped by hand: its recorded definition, then its owner and privileges as recorded', () => {
    const recorded: RuntimeState = {
      ...RECORDED,
      functions: [...RECORDED.functions, { name: 'app_tenant', arguments: 'context jsonb', kind: 'f', owner: 'admin', acl: [['admin', 'EXECUTE', false]], definition: 'CREATE OR REPLACE FUNCTION tenantctl.app_tenant(context jsonb) ...' }],
    };
    const drift = runtimeDrift(recorded, RECORDED);
    expect(drift?.changed).toEqual(['function tenantctl.app_tenant(context jsonb)']);
    expect(drift?.after).toEqual([
      'CREATE OR REPLACE FUNCTION tenantctl.app_tenant(context jsonb) ...',
      'ALTER FUNCTION "tenantctl"."app_tenant"(context jsonb) OWNER TO "admin"',
      'REVOKE EXECUTE ON FUNCTION "tenantctl"."app_tenant"(context jsonb) FROM PUBLIC CASCADE',
    ]);
  });

  test('a grant option added and a column privilege: revoked; a privilege taken away: granted again', () => {
    const now = withPrincipals(RECORDED, {
      acl: [['admin', 'SELECT', true]],
      columns: [['tenant', [['mallory', 'UPDATE', false]]]],
    });
    const drift = runtimeDrift(RECORDED, now);
    expect(drift?.changed).toEqual(['privileges on table tenantctl.principals']);
    expect(drift?.after).toEqual([
      'REVOKE GRANT OPTION FOR SELECT ON TABLE "tenantctl"."principals" FROM "admin" CASCADE',
      'GRANT SELECT ON TABLE "tenantctl"."principals" TO PUBLIC',
      'REVOKE UPDATE ("tenant") ON TABLE "tenantctl"."principals" FROM "mallory" CASCADE',
    ]);
  });

  test("an owner changed: given back first, and the old owner's privileges are not revoked from the new one", () => {
    const now: RuntimeState = { ...RECORDED, owner: 'mallory', acl: RECORDED.acl.map((e) => (e[0] === 'admin' ? (['mallory', e[1], e[2]] as const) : e)) };
    const drift = runtimeDrift(RECORDED, now);
    expect(drift).toEqual({ changed: ['owner of schema tenantctl'], before: ['ALTER SCHEMA "tenantctl" OWNER TO "admin"'], after: [], extras: [], gone: [] });
  });

  test('a recorded relation that is gone is reported apart (the runtime is installed again); an extra sequence is dropped', () => {
    const now: RuntimeState = {
      ...RECORDED,
      relations: [principals(RECORDED), { name: 'ids', kind: 'S', owner: 'admin', rls: false, force: false, acl: [], columns: [], policies: [], triggers: [] }],
    };
    expect(runtimeDrift(RECORDED, now)).toEqual({
      changed: [],
      before: [],
      after: [],
      extras: [{ object: 'sequence tenantctl.ids', sql: 'DROP SEQUENCE "tenantctl"."ids"' }],
      gone: ['table tenantctl.applied'],
    });
  });
});

describe('runtimeNotRestored (apply checks the runtime after putting it back)', () => {
  test('the same state: no error', () => {
    expect(runtimeNotRestored(APPLIED_RUNTIME_STATE, APPLIED_RUNTIME_STATE)).toBeUndefined();
  });

  test('what still differs is named', () => {
    const now = JSON.stringify(withPrincipals(RECORDED, { force: false }));
    expect(runtimeNotRestored(APPLIED_RUNTIME_STATE, now)).toBe(
      "tenantctl's runtime still differs from the last apply's record after the plan put it back: row security on table tenantctl.principals; nothing was applied",
    );
  });
});

describe('plan', () => {
  const YAML = `version: 1
users:
  - { name: alice, tenant: acme, password: { env: PW } }
policies:
  - { name: iso, type: row_filter, tables: [orders], filter: "org = {user.tenant}" }
assignments:
  - { policy: iso, to: all }
`;
  const BASE = catalog({ registryTenants: ['acme'], tables: SHOP });
  let desired: DesiredState;
  let applied: CatalogState;
  beforeAll(async () => {
    desired = await desiredOf(YAML, BASE);
    applied = appliedCatalog(desired, BASE);
  });
  const withState = (state: string, recorded?: { desired: string; rendered: string }): CatalogState => ({
    ...applied,
    runtime: {
      ...applied.runtime!,
      state,
      applied: recorded ? { ...applied.runtime!.applied, [RUNTIME_KEY]: recorded } : applied.runtime!.applied,
    },
  });

  test('drift: the runtime installed again for what is gone, one review step with the fixes, extras dropped after the policies', () => {
    const now: RuntimeState = {
      ...RECORDED,
      relations: [withPrincipals(RECORDED, { force: false }).relations[1]!],
      functions: [...RECORDED.functions, { name: 'peek', arguments: '', kind: 'f', owner: 'admin', acl: [], definition: 'x' }],
    };
    const result = planOf(desired, withState(JSON.stringify(now)));
    expect(result.steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql, s.phase])).toEqual([
      ['schema tenantctl (runtime)', 'update', 'neutral', 'drift: dropped outside tenantctl: table tenantctl.applied; the runtime is installed again', [desired.runtime.sql], 0],
      ['schema tenantctl (runtime)', 'update', 'review', 'drift: changed outside tenantctl: row security on table tenantctl.principals', ['ALTER TABLE "tenantctl"."principals" FORCE ROW LEVEL SECURITY'], 0],
      ['function tenantctl.peek()', 'drop', 'narrows', 'drift: not created by tenantctl (schema tenantctl holds its runtime only)', ['DROP FUNCTION "tenantctl"."peek"()'], 15],
    ]);
    expect(result.notes).toEqual([]);
    expect(result.records.find((r) => r.object === RUNTIME_KEY)?.render).toEqual({ kind: 'runtime' });
  });

  test("an earlier version's record (a hash): no drift claimed, nothing to do while the runtime is the same", () => {
    const hash = desired.runtime.hash;
    const changed = JSON.stringify(withPrincipals(RECORDED, { force: false }));
    expect(planOf(desired, withState(changed, { desired: hash, rendered: hash })).steps).toEqual([]);
  });

  test('recorded on another PostgreSQL major (pg_upgrade): installed again to record it anew, not drift', () => {
    const upgraded = JSON.stringify({ ...withPrincipals(RECORDED, { force: false }), major: 18 });
    const result = planOf(desired, withState(upgraded));
    expect(result.steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([
      ['schema tenantctl (runtime)', 'update', 'neutral', 'recorded on PostgreSQL 15, now 18: installed again to record it anew', [desired.runtime.sql]],
    ]);
    expect(runtimeNotRestored(APPLIED_RUNTIME_STATE, upgraded)).toBeUndefined();
  });

  test('a new runtime version: installed again whatever the state, not reported as drift', () => {
    const changed = JSON.stringify(withPrincipals(RECORDED, { force: false }));
    const result = planOf(desired, withState(changed, { desired: 'an older runtime', rendered: APPLIED_RUNTIME_STATE }));
    expect(result.steps.map((s) => [s.object, s.action, s.effect, s.reason, s.sql])).toEqual([['schema tenantctl (runtime)', 'update', 'neutral', undefined, [desired.runtime.sql]]]);
  });
});
