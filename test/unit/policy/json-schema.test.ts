import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { policyJsonSchema } from '../../../src/policy/schema.js';

type Schema = Record<string, unknown>;

/** Just enough of JSON Schema to check that the generated structure accepts and rejects what it should. */
function accepts(schema: Schema, value: unknown): boolean {
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as Schema[]).some((s) => accepts(s, value));
  if (Array.isArray(schema['oneOf'])) return (schema['oneOf'] as Schema[]).filter((s) => accepts(s, value)).length === 1;
  if ('const' in schema && value !== schema['const']) return false;
  if (Array.isArray(schema['enum']) && !schema['enum'].includes(value)) return false;
  switch (schema['type']) {
    case 'string':
      return typeof value === 'string' && value.length >= ((schema['minLength'] as number | undefined) ?? 0);
    case 'integer':
      return Number.isInteger(value) && (value as number) >= ((schema['minimum'] as number | undefined) ?? -Infinity);
    case 'number':
      return typeof value === 'number';
    case 'boolean':
      return typeof value === 'boolean';
    case 'array':
      return (
        Array.isArray(value) &&
        value.length >= ((schema['minItems'] as number | undefined) ?? 0) &&
        value.every((v) => accepts(schema['items'] as Schema, v))
      );
    case 'object': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
      const record = value as Record<string, unknown>;
      const props = (schema['properties'] ?? {}) as Record<string, Schema>;
      const required = (schema['required'] ?? []) as string[];
      if (!required.every((k) => k in record)) return false;
      return Object.entries(record).every(([k, v]) => {
        if (props[k]) return accepts(props[k], v);
        const extra = schema['additionalProperties'];
        return extra === false ? false : extra && typeof extra === 'object' ? accepts(extra as Schema, v) : true;
      });
    }
    default:
      return true;
  }
}

describe('tenantctl schema', () => {
  const schema = JSON.parse(JSON.stringify(policyJsonSchema())) as Schema;

  test('is draft 2020-12 JSON with descriptions', () => {
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['description']).toBe('tenantctl policy file, version 1');
    const props = schema['properties'] as Record<string, Schema>;
    expect(Object.keys(props)).toEqual(['version', 'mode', 'schemas', 'roles', 'users', 'apps', 'policies', 'assignments']);
    expect(schema['required']).toEqual(['version']);
    expect(schema['additionalProperties']).toBe(false);
    expect(props['mode']!['description']).toMatch(/^policy_required \(default\)/);
  });

  test('accepts the example and the demo fixture', () => {
    const example = parse(readFileSync('test/unit/policy/fixtures/example.yaml', 'utf8')) as unknown;
    const demo = parse(readFileSync('fixtures/demo_ecommerce/policies.yaml', 'utf8')) as unknown;
    expect(accepts(schema, example)).toBe(true);
    expect(accepts(schema, demo)).toBe(true);
  });

  test('rejects unknown keys, wrong types and unknown policy types', () => {
    expect(accepts(schema, { version: 1 })).toBe(true);
    expect(accepts(schema, { version: 2 })).toBe(false);
    expect(accepts(schema, { version: 1, user: [] })).toBe(false);
    expect(accepts(schema, { version: 1, users: [{ name: 'a', tenant: 3 }] })).toBe(false);
    expect(accepts(schema, { version: 1, users: [{ name: 'a', password: 'x' }] })).toBe(false);
    expect(accepts(schema, { version: 1, policies: [{ name: 'p', type: 'row_filtr', tables: ['t'], filter: 'true' }] })).toBe(false);
    expect(accepts(schema, { version: 1, policies: [{ name: 'p', type: 'row_filter', tables: ['t'], filter: 'true' }] })).toBe(true);
    expect(accepts(schema, { version: 1, assignments: [{ policy: 'p', to: { user: 'a', app: 'b' } }] })).toBe(false);
    expect(accepts(schema, { version: 1, assignments: [{ policy: 'p', to: [{ role: 'r' }, 'all'], priority: 5 }] })).toBe(true);
  });
});
