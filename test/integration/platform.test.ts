// The seed 002 platform (fixtures/ecommerce_platform) applied in a fresh database: the support console's pool
// sees PII masked, the cross-tenant analyst reads the analytics tables only, every partition is protected, and a
// partition created after apply is reported by plan and protected by the next apply.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { freshDatabase } from '../helpers/db.js';
import { policyFile } from '../helpers/demo.js';
import { PLATFORM, PLATFORM_TENANTS, platformDatabase, platformPolicies, type PlatformDatabase } from '../helpers/platform.js';

let db: PlatformDatabase;
let reporting: string;

async function asTenant<T>(pool: postgres.Sql, tenant: string, work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> {
  return pool.begin(async (tx) => {
    await tx`SELECT set_config('app.current_tenant_id', ${tenant}, true)`;
    return work(tx);
  }) as Promise<T>;
}

const rlsFlags = (): Promise<postgres.Row[]> =>
  db.sql`SELECT c.relname, c.relkind, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND (c.relname LIKE 'events%' OR c.relname LIKE 'page_views%') AND c.relkind IN ('r', 'p') ORDER BY 1`;

beforeAll(async () => {
  db = await platformDatabase('platform');
  // A reporting login the DBA granted SELECT on every table by hand: not managed by tenantctl, not in the file.
  reporting = `platform_reporting_${db.name.slice(-6)}`;
  await db.sql.unsafe(`CREATE ROLE ${reporting} LOGIN PASSWORD 'reporting-pw'; GRANT USAGE ON SCHEMA public TO ${reporting}; GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${reporting}`);
});

afterAll(async () => {
  await db?.dispose();
  const { default: pg } = await import('postgres');
  const admin = pg(db.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
  await admin.unsafe(`DROP ROLE IF EXISTS ${reporting}`);
  await admin.end();
});

const COUNTS = `SELECT (SELECT count(*) FROM users)::int AS users, (SELECT count(*) FROM tenant_users)::int AS tenant_users,
  (SELECT count(*) FROM products)::int AS products, (SELECT count(*) FROM order_items)::int AS order_items,
  (SELECT count(*) FROM events)::int AS events, (SELECT count(*) FROM page_views)::int AS page_views`;

describe('the data generator', () => {
  it('scale 1: about 2,500 rows; the platform.scale setting (here a startup option, as PGOPTIONS) multiplies them, deterministically', async () => {
    const one = (await db.sql.unsafe(COUNTS))[0]!;
    expect(one).toMatchObject({ users: 100, tenant_users: 114, products: 50, order_items: 300, events: 300, page_views: 300 });
    const other = await freshDatabase('platform_scale');
    try {
      await other.sql.unsafe(readFileSync(join(PLATFORM, 'schema.sql'), 'utf8'));
      const scaled = postgres(other.url, { max: 1, onnotice: () => {}, connection: { 'platform.scale': '2' } });
      try {
        await scaled.unsafe(readFileSync(join(PLATFORM, 'seed.sql'), 'utf8'));
      } finally {
        await scaled.end();
      }
      const two = (await other.sql.unsafe(COUNTS))[0]!;
      expect(two).toMatchObject({ users: 200, tenant_users: 228, products: 100, order_items: 600, events: 600, page_views: 600 });
      // The first 30 orders of each tenant have the same ids, numbers and totals at any scale.
      const firstThirty = `SELECT md5(string_agg(id::text || order_number || total_amount, ',' ORDER BY id)) AS h FROM orders WHERE right(order_number, 6)::int <= 30`;
      expect(await other.sql.unsafe(firstThirty)).toEqual(await db.sql.unsafe(firstThirty));
    } finally {
      await other.drop();
    }
  });
});

describe('apply', () => {
  it('applies the fixture as a superuser in a fresh database (row security on 18 tables and 6 partitions)', async () => {
    const r = await db.apply();
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\nApply complete: \d+ added, 24 changed, 0 removed\.\n$/);
  });

  it('protects every governed table and every partition', async () => {
    expect(await rlsFlags()).toEqual(
      ['events', 'events_2024_01', 'events_2024_02', 'events_2024_03', 'page_views', 'page_views_2024_01', 'page_views_2024_02', 'page_views_2024_03'].map((relname) => ({
        relname,
        relkind: relname.includes('2024') ? 'r' : 'p',
        relrowsecurity: true,
        relforcerowsecurity: true,
      })),
    );
    expect(await db.sql`SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT (c.relrowsecurity AND c.relforcerowsecurity)`).toEqual([{ n: 0 }]);
  });

  it('tenantctl test passes the fixture\'s assertions (tests.yaml), app probes included', async () => {
    const tests = policyFile(platformPolicies(db.name.slice(-6), readFileSync(join(PLATFORM, 'tests.yaml'), 'utf8')), 'tests.yaml');
    const r = await runCli(['test', tests], { env: { DATABASE_URL: db.url } });
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/\n14 assertions: 14 passed, 0 failed\.\n$/);
    expect(r.code).toBe(0);
  });

  it('a second apply of the same file is a no-op', async () => {
    const r = await db.apply();
    expect(r).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
    expect((await db.plan('--detailed-exitcode')).code).toBe(0);
  });
});

describe('the support console pool', () => {
  it('sees its tenant\'s customers with phone, date of birth, street address and postal code masked', async () => {
    const support = db.connect('support');
    const users = await asTenant(support, PLATFORM_TENANTS.acme, (tx) => tx`SELECT email, phone, date_of_birth::text AS dob FROM users WHERE email IN ('user1@mail.example', 'user2@mail.example') ORDER BY email`);
    expect(users).toEqual([{ email: 'user1@mail.example', phone: '***-***-0001', dob: '1970-01-01' }]);
    const addresses = await asTenant(
      support,
      PLATFORM_TENANTS.globex,
      (tx) => tx`SELECT a.address_line_1, a.address_line_2, a.city, a.postal_code, a.phone FROM user_addresses a JOIN users u ON u.id = a.user_id WHERE u.email = 'user2@mail.example'`,
    );
    expect(addresses).toEqual([{ address_line_1: '[REDACTED]', address_line_2: '[REDACTED]', city: 'Ogdenville', postal_code: '90***', phone: '***-***-0002' }]);
    const order = await asTenant(support, PLATFORM_TENANTS.acme, (tx) => tx`SELECT shipping_address, billing_address FROM orders WHERE order_number = 'ACME-000001'`);
    expect(order).toEqual([{ shipping_address: { city: 'Springfield', country: 'US' }, billing_address: { city: 'Springfield', country: 'US' } }]);
  });

  it('the storefront pool sees the same rows unmasked', async () => {
    const storefront = db.connect('storefront');
    const users = await asTenant(storefront, PLATFORM_TENANTS.acme, (tx) => tx`SELECT phone, date_of_birth::text AS dob FROM users WHERE email = 'user1@mail.example'`);
    expect(users).toEqual([{ phone: '+1-555-0001', dob: '1970-04-08' }]);
  });

  it('cannot write, and credentials exist for neither pool', async () => {
    const support = db.connect('support');
    await expect(asTenant(support, PLATFORM_TENANTS.acme, (tx) => tx`UPDATE users SET status = 'x'`)).rejects.toMatchObject({ code: '42501', message: 'permission denied for view users' });
    for (const role of ['support', 'storefront'] as const) {
      const pool = db.connect(role);
      await expect(asTenant(pool, PLATFORM_TENANTS.acme, (tx) => tx`SELECT password_hash FROM users`)).rejects.toMatchObject({ message: 'column "password_hash" does not exist' });
      await expect(asTenant(pool, PLATFORM_TENANTS.acme, (tx) => tx`SELECT session_token FROM user_sessions`)).rejects.toMatchObject({ message: 'column "session_token" does not exist' });
    }
    expect(await db.sql`SELECT count(*)::int AS n FROM users WHERE status = 'x'`).toEqual([{ n: 0 }]);
  });

  it('cannot reach the base tables around its views', async () => {
    const support = db.connect('support');
    await expect(asTenant(support, PLATFORM_TENANTS.acme, (tx) => tx`SELECT phone FROM public.users`)).rejects.toMatchObject({ code: '42501', message: 'permission denied for table users' });
  });
});

describe('the cross-tenant analyst', () => {
  it('reads the analytics tables of every tenant', async () => {
    const analyst = db.connect('analyst');
    expect(await analyst`SELECT count(DISTINCT tenant_id)::int AS tenants, count(*)::int AS n FROM events`).toEqual([{ tenants: 5, n: 300 }]);
    expect(await analyst`SELECT count(DISTINCT tenant_id)::int AS tenants, count(*)::int AS n FROM page_views`).toEqual([{ tenants: 5, n: 300 }]);
  });

  it('page views without IP address and user agent', async () => {
    const analyst = db.connect('analyst');
    await expect(analyst`SELECT ip_address FROM page_views`).rejects.toMatchObject({ message: 'column "ip_address" does not exist' });
    expect(Object.keys((await analyst`SELECT * FROM page_views LIMIT 1`)[0]!)).toEqual(['id', 'tenant_id', 'user_id', 'session_id', 'page_url', 'page_title', 'referrer', 'created_at']);
  });

  it('every other table does not exist for the analyst, whatever tenant setting it sends', async () => {
    const analyst = db.connect('analyst');
    const others = (await db.sql`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname NOT IN ('events', 'page_views') ORDER BY 1`).map((r) => r['relname'] as string);
    expect(others).toHaveLength(16);
    for (const t of others) {
      await expect(analyst.unsafe(`SELECT 1 FROM ${t}`)).rejects.toMatchObject({ code: '42P01', message: `relation "${t}" does not exist` });
    }
    await expect(
      asTenant(analyst, PLATFORM_TENANTS.acme, (tx) => tx`SELECT 1 FROM orders`),
    ).rejects.toMatchObject({ code: '42P01', message: 'relation "orders" does not exist' });
  });
});

describe('partitions', () => {
  it('a partition queried directly gives nothing more than its parent', async () => {
    const storefront = db.connect('storefront');
    const analyst = db.connect('analyst');
    for (const p of ['events_2024_01', 'page_views_2024_03']) {
      await expect(asTenant(storefront, PLATFORM_TENANTS.acme, (tx) => tx.unsafe(`SELECT count(*) FROM public.${p}`))).rejects.toMatchObject({ code: '42501', message: `permission denied for table ${p}` });
      await expect(analyst.unsafe(`SELECT count(*) FROM public.${p}`)).rejects.toMatchObject({ code: '42501', message: `permission denied for table ${p}` });
      await expect(asTenant(storefront, PLATFORM_TENANTS.acme, (tx) => tx.unsafe(`SET LOCAL search_path = public; SELECT count(*) FROM ${p}`))).rejects.toMatchObject({
        code: '42501',
        message: `permission denied for table ${p}`,
      });
    }
    // A login granted SELECT on every table by hand (outside tenantctl) reads zero rows, parent and partitions
    // alike: row security is forced on each and no policy names it.
    const { default: pg } = await import('postgres');
    const rep = pg(db.urlFor(reporting, 'reporting-pw'), { max: 1, onnotice: () => {} });
    try {
      for (const t of ['events', 'events_2024_01', 'events_2024_02', 'events_2024_03', 'page_views', 'page_views_2024_02']) {
        expect({ t, rows: await rep.unsafe(`SELECT count(*)::int AS n FROM public.${t}`) }).toEqual({ t, rows: [{ n: 0 }] });
      }
    } finally {
      await rep.end();
    }
  });

  it('a partition created after apply is reported by plan --detailed-exitcode and protected by the next apply', async () => {
    await db.sql`CREATE TABLE events_2024_04 PARTITION OF events FOR VALUES FROM ('2024-04-01') TO ('2024-05-01')`;
    await db.sql`INSERT INTO events (tenant_id, event_type, created_at) VALUES (${PLATFORM_TENANTS.acme}, 'view_item', '2024-04-02'), (${PLATFORM_TENANTS.globex}, 'checkout', '2024-04-03')`;
    const { default: pg } = await import('postgres');
    const rep = pg(db.urlFor(reporting, 'reporting-pw'), { max: 1, onnotice: () => {} });
    try {
      // The hole plan reports: the new partition has no row security, and the hand-granted login reads it directly.
      await db.sql.unsafe(`GRANT SELECT ON public.events_2024_04 TO ${reporting}`);
      expect(await rep`SELECT count(*)::int AS n FROM public.events_2024_04`).toEqual([{ n: 2 }]);

      const plan = await db.plan('--detailed-exitcode');
      expect(plan.stderr).toBe('');
      expect(plan.code).toBe(2);
      expect(plan.stdout).toBe(
        [
          '~ update row security on public.events_2024_04  (narrows access)',
          '    ALTER TABLE "public"."events_2024_04" ENABLE ROW LEVEL SECURITY',
          '    ALTER TABLE "public"."events_2024_04" FORCE ROW LEVEL SECURITY',
          '',
          'Plan: 0 to add, 1 to change, 0 to remove.',
          '',
        ].join('\n'),
      );
      const sqlPlan = await db.plan('--format', 'sql');
      expect(sqlPlan.stdout).toBe(
        'BEGIN;\n-- update row security on public.events_2024_04 (narrows)\nALTER TABLE "public"."events_2024_04" ENABLE ROW LEVEL SECURITY;\nALTER TABLE "public"."events_2024_04" FORCE ROW LEVEL SECURITY;\nCOMMIT;\n',
      );

      const r = await db.apply();
      expect(r.code).toBe(0);
      expect(await rep`SELECT count(*)::int AS n FROM public.events_2024_04`).toEqual([{ n: 0 }]);
    } finally {
      await rep.end();
    }
    expect((await rlsFlags()).find((r) => r['relname'] === 'events_2024_04')).toEqual({ relname: 'events_2024_04', relkind: 'r', relrowsecurity: true, relforcerowsecurity: true });
    // The new month's rows are visible through the parent, to their tenant only.
    const storefront = db.connect('storefront');
    expect(await asTenant(storefront, PLATFORM_TENANTS.acme, (tx) => tx`SELECT event_type FROM events WHERE created_at >= '2024-04-01'`)).toEqual([{ event_type: 'view_item' }]);
    expect(await db.connect('analyst')`SELECT count(*)::int AS n FROM events WHERE created_at >= '2024-04-01'`).toEqual([{ n: 2 }]);
    expect(await db.apply()).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
  });
});
