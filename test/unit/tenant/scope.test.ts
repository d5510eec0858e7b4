import { beforeAll, describe, expect, it } from 'vitest';
import { parseSince } from '../../../src/registry/audit-query.js';
import { loadSqlParser } from '../../../src/policy/pg-parser.js';
import { checkSlug } from '../../../src/tenant/common.js';
import { tenantComparisons } from '../../../src/tenant/scope.js';

beforeAll(async () => {
  await loadSqlParser();
});

describe('tenant column from a policy expression (as pg_get_expr renders it)', () => {
  it('finds top-level comparisons with {user.tenant} and {user.tenant_id}, either side', () => {
    expect(tenantComparisons(`(org = ( SELECT tenantctl.attr('tenant'::text) AS attr))`)).toEqual([{ column: 'org', by: 'slug' }]);
    expect(tenantComparisons(`((( SELECT tenantctl.attr('tenant'::text) AS attr) = name) AND ( SELECT tenantctl.visible() AS visible))`)).toEqual([{ column: 'name', by: 'slug' }]);
    expect(tenantComparisons(`(tenant_id = ( SELECT (tenantctl.attr('tenant_id'::text))::uuid AS attr))`)).toEqual([{ column: 'tenant_id', by: 'id' }]);
    expect(tenantComparisons(`((x.org = ( SELECT tenantctl.attr('tenant'::text) AS attr)) AND (region = ( SELECT tenantctl.attr('region'::text) AS attr)))`)).toEqual([
      { column: 'org', by: 'slug' },
    ]);
  });

  it('ignores comparisons that do not decide the tenant: other attributes, OR, subqueries, other operators', () => {
    expect(tenantComparisons(`(region = ( SELECT tenantctl.attr('region'::text) AS attr))`)).toEqual([]);
    expect(tenantComparisons(`((org = ( SELECT tenantctl.attr('tenant'::text) AS attr)) OR true)`)).toEqual([]);
    expect(tenantComparisons(`(order_id IN ( SELECT orders.id FROM orders WHERE (orders.org = ( SELECT tenantctl.attr('tenant'::text) AS attr))))`)).toEqual([]);
    expect(tenantComparisons(`(org <> ( SELECT tenantctl.attr('tenant'::text) AS attr))`)).toEqual([]);
    expect(tenantComparisons(`(org = ( SELECT public.attr('tenant'::text) AS attr))`)).toEqual([]);
    expect(tenantComparisons('not sql at all (')).toEqual([]);
  });
});

describe('slugs and --since', () => {
  it('accepts exactly the registry CHECK', () => {
    for (const ok of ['acme', 'a1c', 'globex-eu', 'x'.repeat(40)]) expect(() => checkSlug(ok), ok).not.toThrow();
    for (const bad of ['ab', 'Acme', '-acme', 'acme-', 'ac_me', 'x'.repeat(41), 'acmé']) expect(() => checkSlug(bad), bad).toThrow(/invalid tenant slug/);
  });

  it('parses durations and ISO dates, and nothing else', () => {
    const now = new Date('2026-06-01T12:00:00Z');
    expect(parseSince('24h', now).toISOString()).toBe('2026-05-31T12:00:00.000Z');
    expect(parseSince('30m', now).toISOString()).toBe('2026-06-01T11:30:00.000Z');
    expect(parseSince('7d', now).toISOString()).toBe('2026-05-25T12:00:00.000Z');
    expect(parseSince('2w', now).toISOString()).toBe('2026-05-18T12:00:00.000Z');
    expect(parseSince('2026-01-31', now).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseSince('2026-01-31T10:00:00Z', now).toISOString()).toBe('2026-01-31T10:00:00.000Z');
    for (const bad of ['yesterday', '24', 'h', '-1h', '2026-13-45']) expect(() => parseSince(bad, now), bad).toThrow(/--since must be/);
  });
});
