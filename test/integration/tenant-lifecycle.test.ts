// tenant create/list/show/freeze/unfreeze/archive and the audit command: effects in the registry, in the audit
// log, and through real tenant logins; bad input changes nothing.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEMO_POLICIES, demoDatabase, demoEnv, login, policyFile, type DemoDatabase } from '../helpers/demo.js';

let db: DemoDatabase;
let writer: string;
const sessions: postgres.Sql[] = [];
const env = (): NodeJS.ProcessEnv => demoEnv(db, db.operatorUrl);
const cli = (...args: string[]) => runCli(args, { env: env() });

function as(user: string): postgres.Sql {
  const s = login(db, user);
  sessions.push(s);
  return s;
}

async function registry(): Promise<unknown> {
  return {
    tenants: await db.sql`SELECT slug, name, status::text, kind::text, plan FROM tenant_registry.tenants ORDER BY slug`,
    audit: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log`,
  };
}

async function auditRows(action: string): Promise<Record<string, unknown>[]> {
  return db.sql`SELECT a.action, t.slug, a.target_type, a.target_name, a.actor_id, a.actor_type, a.metadata, host(a.source_ip) AS ip
                  FROM tenant_registry.audit_log a LEFT JOIN tenant_registry.tenants t ON t.id = a.tenant_id
                 WHERE a.action = ${action} ORDER BY a.id`;
}

beforeAll(async () => {
  db = await demoDatabase('tenant_life');
  writer = `wr_${db.name}`;
  const text = readFileSync(DEMO_POLICIES, 'utf8').replace(
    'users:\n',
    `users:\n  - name: ${writer}\n    password: { env: DEMO_PASSWORD }\n    tenant: acme\n    access: readwrite\n`,
  );
  const r = await runCli(['apply', policyFile(text), '--yes'], { env: env() });
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  await db.sql.unsafe(`DROP ROLE IF EXISTS "${writer}"`).catch(() => {});
  await db.drop();
});

describe('tenant create, list, show', () => {
  it('creates a tenant with one audit row, lists and shows it', async () => {
    const r = await cli('tenant', 'create', 'initech', '--name', 'Initech Corp', '--plan', 'pro', '--status', 'active');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Created tenant initech \([0-9a-f-]{36}\), status active, kind customer, plan pro\.\n$/);
    const [row] = await db.sql`SELECT id::text, slug, name, status::text, kind::text, plan FROM tenant_registry.tenants WHERE slug = 'initech'`;
    expect(row).toMatchObject({ slug: 'initech', name: 'Initech Corp', status: 'active', kind: 'customer', plan: 'pro' });
    expect(await auditRows('tenant.create')).toEqual([
      {
        action: 'tenant.create',
        slug: 'initech',
        target_type: 'tenant',
        target_name: 'initech',
        actor_id: 'admin',
        actor_type: 'system',
        metadata: { tool: 'tenantctl', status: 'active', kind: 'customer', plan: 'pro' },
        ip: '127.0.0.1',
      },
    ]);

    const list = await cli('tenant', 'list');
    expect(list.code).toBe(0);
    expect(list.stdout.split('\n')[0]).toMatch(/^SLUG +STATUS +KIND +PLAN +ID +NAME$/);
    expect(list.stdout.split('\n').slice(1, -1).map((l) => l.split(/ +/).slice(0, 4))).toEqual([
      ['acme', 'demo', 'demo', 'starter'],
      ['globex', 'demo', 'demo', 'starter'],
      ['initech', 'active', 'customer', 'pro'],
      ['stark', 'demo', 'demo', 'starter'],
    ]);
    const json = JSON.parse((await cli('tenant', 'list', '--status', 'active', '--format', 'json')).stdout) as { slug: string; id: string }[];
    expect(json.map((t) => t.slug)).toEqual(['initech']);
    expect(json[0]?.id).toBe(row?.['id']);

    const show = await cli('tenant', 'show', 'acme');
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('  status:    demo\n');
    expect(show.stdout).toContain('  logins:    alice\n'.replace('alice', ['alice', writer].sort().join(', ')));
    const shown = JSON.parse((await cli('tenant', 'show', 'initech', '--format', 'json')).stdout) as Record<string, unknown>;
    expect(shown).toMatchObject({ slug: 'initech', status: 'active', logins: [], apiKeys: { live: 0, revoked: 0 }, projects: [], products: [], quota: { maxConnections: null, statementTimeoutMs: null, maxRows: null, maxStorageBytes: null } });
    expect(show.stdout).toContain('  quota:     none\n');
  });

  it('refuses a duplicate, an invalid slug, a bad status and an unmigrated registry, changing nothing', async () => {
    const before = await registry();
    const cases: [string[], string][] = [
      [['tenant', 'create', 'acme', '--name', 'Again'], 'error: tenant "acme" already exists\n'],
      [['tenant', 'create', 'Bad_Slug', '--name', 'x'], 'error: invalid tenant slug "Bad_Slug": 3 to 40 characters, lowercase letters, digits and dashes, starting and ending with a letter or digit\n'],
      [['tenant', 'create', '-ab', '--name', 'x'], ''],
      [['tenant', 'create', 'newco', '--name', 'x', '--status', 'frozen'], 'error: --status must be one of trial, active, demo, got "frozen"\n'],
      [['tenant', 'create', 'newco', '--name', 'x', '--kind', 'vip'], 'error: --kind must be one of customer, demo, got "vip"\n'],
      [['tenant', 'create', 'newco', '--name', 'x', '--registry-schema', 'nowhere'], 'error: the tenant registry is not migrated in schema nowhere: run `tenantctl migrate up` first\n'],
      [['tenant', 'show', 'nobody'], 'error: unknown tenant "nobody"\n'],
      [['tenant', 'freeze', 'nobody'], 'error: unknown tenant "nobody"\n'],
      [['tenant', 'list', '--format', 'yaml'], 'error: --format must be text or json, got "yaml"\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = await cli(...args);
      expect(r.code, args.join(' ')).toBe(1);
      if (stderr !== '') expect(r.stderr, args.join(' ')).toBe(stderr);
      expect(r.stdout, args.join(' ')).toBe('');
    }
    expect(await registry()).toEqual(before);
  });

  it('creating a tenant takes no ACCESS EXCLUSIVE lock on a governed table, and does not wait for a long reader', async () => {
    // A reader holds ACCESS SHARE on every governed table for the whole create: any stronger lock would block.
    const reader = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await reader.begin(async (tx) => {
        await tx`LOCK TABLE public.customers, public.organizations IN ACCESS SHARE MODE`;
        const r = await cli('tenant', 'create', 'hooli', '--name', 'Hooli', '--registry-schema', 'tenant_registry');
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      });
    } finally {
      await reader.end();
    }
    // The same in one transaction, looking at pg_locks from inside it.
    const { createTenant } = await import('../../src/tenant/lifecycle.js');
    const locks = await db.sql.begin(async (tx) => {
      await createTenant(tx, 'tenant_registry', { slug: 'piedpiper', name: 'Pied Piper' });
      const rows = await tx`SELECT c.relname::text AS rel, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
                             WHERE l.pid = pg_backend_pid() AND c.relnamespace = 'public'::regnamespace AND l.mode = 'AccessExclusiveLock'`;
      throw Object.assign(new Error('rollback'), { rows });
    }).catch((e: { rows?: unknown }) => e.rows);
    expect(locks).toEqual([]);
    expect(await db.sql`SELECT slug FROM tenant_registry.tenants WHERE slug = 'piedpiper'`).toEqual([]);
  });

  it('adding a user to an existing persona takes no ACCESS EXCLUSIVE lock on a governed table', async () => {
    const extra = `rd_${db.name}`;
    const text = readFileSync(DEMO_POLICIES, 'utf8').replace(
      'users:\n',
      `users:\n  - name: ${writer}\n    password: { env: DEMO_PASSWORD }\n    tenant: acme\n    access: readwrite\n  - name: ${extra}\n    password: { env: DEMO_PASSWORD }\n    tenant: globex\n    access: read\n`,
    );
    const reader = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await reader.begin(async (tx) => {
        await tx`LOCK TABLE public.customers, public.orders, public.products, public.order_items, public.payments, public.support_tickets, public.organizations IN ACCESS SHARE MODE`;
        // --lock-timeout 1s --attempts 1: an ACCESS EXCLUSIVE lock on any governed table would fail the apply.
        const r = await runCli(['apply', policyFile(text), '--yes', '--lock-timeout', '1s', '--attempts', '1'], { env: env() });
        expect(r.stderr).not.toMatch(/error/i);
        expect(r.code).toBe(0);
      });
      expect((await as(extra)`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(10);
    } finally {
      await reader.end();
    }
  });
});

describe('freeze, unfreeze, archive: at once, through a real tenant login, one audit row each', () => {
  it('frozen: reads work and writes fail; unfreeze restores the previous status; archived: zero rows', async () => {
    const applies = async (): Promise<number> =>
      (await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'policy.apply'`)[0]?.['n'] as number;
    const appliesBefore = await applies();
    const s = as(writer);
    const count = async (): Promise<number> => (await s`SELECT count(*)::int AS n FROM customers`)[0]?.['n'] as number;
    expect(await count()).toBe(10);

    const f = await cli('tenant', 'freeze', 'acme');
    expect(f).toMatchObject({ code: 0, stdout: 'Tenant acme: demo -> frozen. Writes by its users now fail.\n', stderr: '' });
    expect(await count()).toBe(10);
    await expect(s`INSERT INTO customers (org, first_name, last_name, email) VALUES ('acme', 'F', 'Rozen', 'f@acme.test')`).rejects.toMatchObject({
      code: '42501',
      message: 'tenant "acme" is frozen: writes are not allowed',
    });
    await expect(s`UPDATE customers SET first_name = first_name`).rejects.toMatchObject({ message: 'tenant "acme" is frozen: writes are not allowed' });
    // Other tenants are untouched.
    expect((await as('bob')`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(10);

    expect(await cli('tenant', 'freeze', 'acme')).toMatchObject({ code: 0, stdout: 'Tenant acme is already frozen; nothing changed.\n' });
    const u = await cli('tenant', 'unfreeze', 'acme');
    expect(u).toMatchObject({ code: 0, stdout: 'Tenant acme: frozen -> demo. Its users can write again.\n' });
    const [c] = await s`INSERT INTO customers (org, first_name, last_name, email) VALUES ('acme', 'T', 'Haw', 'thaw@acme.test') RETURNING id`;
    await s`DELETE FROM customers WHERE id = ${c?.['id'] as string}`;

    expect(await cli('tenant', 'unfreeze', 'acme')).toMatchObject({ code: 1, stdout: '', stderr: 'error: tenant "acme" is not frozen (status demo)\n' });

    const a = await cli('tenant', 'archive', 'acme');
    expect(a).toMatchObject({ code: 0, stdout: 'Tenant acme: demo -> archived. Its users now see nothing.\n' });
    for (const t of ['customers', 'orders', 'order_items', 'organizations']) expect((await s.unsafe(`SELECT count(*)::int AS n FROM ${t}`))[0]?.['n'], t).toBe(0);
    expect((await as('alice')`SELECT count(*)::int AS n FROM customers`)[0]?.['n']).toBe(0);
    const before = await registry();
    expect(await cli('tenant', 'freeze', 'acme')).toMatchObject({ code: 1, stderr: 'error: tenant "acme" is archived: an archived tenant cannot be frozen\n' });
    expect(await cli('tenant', 'archive', 'acme')).toMatchObject({ code: 0, stdout: 'Tenant acme is already archived; nothing changed.\n' });
    expect(await registry()).toEqual(before);

    const rows = await db.sql`SELECT a.action, a.metadata FROM tenant_registry.audit_log a JOIN tenant_registry.tenants t ON t.id = a.tenant_id
                              WHERE t.slug = 'acme' AND a.action LIKE 'tenant.%' ORDER BY a.id`;
    expect(rows).toEqual([
      { action: 'tenant.freeze', metadata: { tool: 'tenantctl', from: 'demo', to: 'frozen' } },
      { action: 'tenant.unfreeze', metadata: { tool: 'tenantctl', from: 'frozen', to: 'demo' } },
      { action: 'tenant.archive', metadata: { tool: 'tenantctl', from: 'demo', to: 'archived' } },
    ]);
    // Status changes are registry updates only: no apply ran meanwhile.
    expect(await applies()).toBe(appliesBefore);
  });
});

describe('tenantctl audit', () => {
  it('filters by tenant, action (exact or prefix) and time, as text and json', async () => {
    const json = async (...args: string[]): Promise<{ action: string; tenant_slug: string | null }[]> => {
      const r = await cli('audit', '--format', 'json', ...args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return JSON.parse(r.stdout) as { action: string; tenant_slug: string | null }[];
    };
    expect((await json('--tenant', 'acme')).map((r) => r.action)).toEqual(['tenant.archive', 'tenant.unfreeze', 'tenant.freeze']);
    expect((await json('--action', 'tenant.freeze')).map((r) => [r.action, r.tenant_slug])).toEqual([['tenant.freeze', 'acme']]);
    expect((await json('--action', 'tenant.*', '--tenant', 'initech')).map((r) => r.action)).toEqual(['tenant.create']);
    const applies = (await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'policy.apply'`)[0]?.['n'] as number;
    expect(applies).toBeGreaterThan(0);
    expect((await json('--action', 'policy.apply', '--since', '1h')).length).toBe(applies);
    expect(await json('--since', '2000-01-01', '--action', 'nothing.here')).toEqual([]);
    await db.sql`UPDATE tenant_registry.audit_log SET created_at = created_at - interval '2 days' WHERE action = 'tenant.create'`;
    expect((await json('--action', 'tenant.create', '--since', '24h')).length).toBe(0);
    expect((await json('--action', 'tenant.create', '--since', '3d')).length).toBe(2);

    const text = await cli('audit', '--tenant', 'acme', '--action', 'tenant.freeze');
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^TIME +ACTION +TENANT +TARGET +ACTOR +METADATA\n\S+ +tenant\.freeze +acme +tenant:acme +admin \(\S+\) +\{"to":"frozen","from":"demo","tool":"tenantctl"\}\n$/);

    expect(await cli('audit', '--since', 'yesterday')).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: --since must be a duration such as 30m, 24h, 7d or 2w, or an ISO date such as 2026-01-31, got "yesterday"\n',
    });
    expect(await cli('audit', '--tenant', 'nobody')).toMatchObject({ code: 1, stderr: 'error: unknown tenant "nobody"\n' });
  });
});
