import { describe, expect, test } from 'vitest';
import { checkPolicyFile, loadPolicyModel, PolicyFileError } from '../../../src/policy/check.js';
import { effectiveAssignments, effectivePolicies } from '../../../src/policy/effective.js';
import type { PolicyModel } from '../../../src/policy/model.js';
import { compiledTemplate, renderExpression } from '../../../src/policy/templates.js';
import { brief } from './helpers.js';

const EXAMPLE = 'test/unit/policy/fixtures/example.yaml';
const DEMO = 'fixtures/demo_ecommerce/policies.yaml';

async function exampleModel(): Promise<PolicyModel> {
  const result = await checkPolicyFile(EXAMPLE, 'policies.yaml');
  if (!result.model) throw new Error(result.errors.map(brief).join('\n'));
  return result.model;
}

describe('valid files', () => {
  test('the full example of policy-language.md validates; its undeclared `except` user only warns', async () => {
    const result = await checkPolicyFile(EXAMPLE, 'policies.yaml');
    expect(result.errors.map(brief)).toEqual([]);
    expect(result.warnings.map(brief)).toEqual([
      '69:66: unknown user `auditor` in `except`: it is not in this file, so it excludes nobody',
    ]);
    expect(result.model).toBeDefined();
  });

  test('the demo_ecommerce fixture validates without errors or warnings', async () => {
    const result = await checkPolicyFile(DEMO);
    expect(result.errors.map(brief)).toEqual([]);
    expect(result.warnings.map(brief)).toEqual([]);
    const m = result.model!;
    expect([m.users.length, m.apps.length, m.roles.length, m.policies.length, m.assignments.length]).toEqual([3, 0, 0, 8, 6]);
  });

  test('loadPolicyModel throws PolicyFileError with every error', async () => {
    await expect(loadPolicyModel('test/unit/policy/fixtures/does-not-exist.yaml', 'missing.yaml')).rejects.toBeInstanceOf(PolicyFileError);
    const { model } = await loadPolicyModel(DEMO);
    expect(model.file).toBe(DEMO);
  });
});

describe('the PolicyModel of the example', () => {
  test('defaults are filled and names normalised', async () => {
    const m = await exampleModel();
    expect(m.version).toBe(1);
    expect(m.mode).toBe('policy_required');
    expect(m.schemas.map((s) => s.name)).toEqual(['public']);
    expect(m.users.map((u) => [u.name, u.access, u.tenant?.name, u.connectionLimit])).toEqual([
      ['alice', 'read', 'acme', 20],
      ['bob', 'read', 'globex', undefined],
    ]);
    expect(m.users[0]!.roles.map((r) => r.name)).toEqual(['support']);
    expect(m.users[0]!.password).toEqual({ kind: 'env', variable: 'DEMO_PASSWORD', pos: { file: 'policies.yaml', line: 11, column: 15 } });
    expect(m.users[0]!.attributes.map((a) => [a.name, a.type, a.value])).toEqual([
      ['region', 'text', 'eu'],
      ['clearance', 'bigint', 2],
      ['teams', 'text[]', ['a', 'b']],
    ]);
    expect(m.apps[0]!.context.map((c) => [c.attribute, c.setting, c.type, c.pos.line])).toEqual([
      ['tenant', 'app.current_tenant', 'text', 25],
      ['tenant_id', 'app.current_tenant_id', 'uuid', 26],
    ]);
    expect(m.attributeTypes).toEqual({ name: 'text', tenant: 'text', tenant_id: 'uuid', region: 'text', clearance: 'bigint', teams: 'text[]' });
  });

  test('tables are lists of refs with positions; columns ["*"] means all', async () => {
    const m = await exampleModel();
    const iso = m.policies[0]!;
    expect(iso.tables.map((t) => [t.schema, t.name, t.glob, `${t.pos.line}:${t.pos.column}`])).toEqual([
      [undefined, 'customers', false, '32:14'],
      [undefined, 'orders', false, '32:25'],
      [undefined, 'products', false, '32:33'],
      [undefined, 'support_tickets', false, '32:43'],
    ]);
    const mask = m.policies.find((p) => p.name === 'mask-ssn-partial')!;
    expect(mask.type === 'column_mask' && [mask.tables.map((t) => t.name), mask.column.name]).toEqual([['customers'], 'ssn']);
    const allow = m.policies.find((p) => p.name === 'admin-full-access')!;
    expect(allow.type === 'column_allow' && [allow.tables.map((t) => [t.name, t.glob]), allow.columns]).toEqual([[['*', true]], 'all']);
  });

  test('expressions carry templates, what the parser found, and substitute to the compiled form', async () => {
    const m = await exampleModel();
    const children = m.policies[1]!;
    if (children.type !== 'row_filter') throw new Error('expected a row_filter');
    const f = children.filter;
    expect(f.text).toBe('order_id IN (SELECT id FROM orders WHERE org = {user.tenant})');
    expect(f.templates).toEqual([{ attribute: 'tenant', start: 47, end: 60, type: 'text', pos: { file: 'policies.yaml', line: 37, column: 61 } }]);
    expect(f.parsedText).toBe('order_id IN (SELECT id FROM orders WHERE org = $1           )');
    expect(f.columns.map((c) => c.name)).toEqual(['order_id', 'id', 'org']);
    expect(f.relations).toEqual([{ name: 'orders', offset: 28 }]);
    expect(renderExpression(f)).toBe("order_id IN (SELECT id FROM orders WHERE org = (SELECT tenantctl.attr('tenant')))");
    const mask = m.policies[2]!;
    if (mask.type !== 'column_mask') throw new Error('expected a column_mask');
    expect(mask.mask.functions).toEqual([{ name: 'right', offset: 13 }]);
    expect(mask.mask.columns).toEqual([{ qualifier: [], name: 'ssn', offset: 19 }]);
  });

  test('compiled templates are typed', () => {
    expect(compiledTemplate('tenant', 'text')).toBe("(SELECT tenantctl.attr('tenant'))");
    expect(compiledTemplate('tenant_id', 'uuid')).toBe("(SELECT tenantctl.attr('tenant_id')::uuid)");
    expect(compiledTemplate('clearance', 'bigint')).toBe("(SELECT tenantctl.attr('clearance')::bigint)");
    expect(compiledTemplate('teams', 'text[]')).toBe("(SELECT tenantctl.attr('teams'))::text[]");
    expect(renderExpression({ text: 'a = {user.x} AND b', templates: [{ attribute: 'x', start: 4, end: 12, type: 'boolean', pos: { file: 'f', line: 1, column: 1 } }] }, (t) => `<${t.attribute}:${t.type}>`)).toBe(
      'a = <x:boolean> AND b',
    );
  });

  test('assignments normalise to principal selectors', async () => {
    const m = await exampleModel();
    expect(m.assignments.map((a) => [a.policy, a.to.map((s) => s.kind), a.except.map((s) => ('name' in s ? s.name : s.kind)), a.priority])).toEqual([
      ['tenant-isolation', ['all'], [], 100],
      ['tenant-isolation-children', ['all'], [], 100],
      ['mask-ssn-partial', ['all'], [], 100],
      ['hide-credit-card', ['all'], [], 100],
      ['hide-product-financials', ['all'], ['auditor'], 100],
    ]);
  });

  test('effective assignments for a user and an app', async () => {
    const m = await exampleModel();
    const alice = m.users[0]!;
    expect(effectivePolicies(m, alice).map((p) => p.name)).toEqual([
      'tenant-isolation',
      'tenant-isolation-children',
      'mask-ssn-partial',
      'hide-credit-card',
      'hide-product-financials',
    ]);
    expect(effectiveAssignments(m, m.apps[0]!).map((e) => [e.policy.name, e.via])).toHaveLength(5);
  });
});
