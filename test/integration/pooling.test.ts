// The seed 002 platform behind an application pool: many transactions for different tenants over the same few
// pooled connections, each naming its tenant with set_config(..., true). Every row a transaction sees is its
// tenant's, compared with ground truth read by the superuser; no setting, no rows; nothing leaks into the next
// transaction on a connection.
import type postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_TENANTS, platformDatabase, type PlatformDatabase } from '../helpers/platform.js';

let db: PlatformDatabase;
const TENANTS = Object.entries(PLATFORM_TENANTS);

/** What one tenant's transaction must see, per table: row ids (sorted), read as superuser from the tables. */
interface Truth {
  orders: string[];
  order_items: string[];
  users: string[];
  product_inventory: string[];
  events: string[];
  payment_transactions: string[];
}
const truth = new Map<string, Truth>();

/** The reads each pooled transaction makes, as the app would: unqualified names, through its search_path. */
async function readAll(tx: postgres.TransactionSql | postgres.Sql): Promise<Truth & { tenantIds: string[] }> {
  const ids = async (q: Promise<postgres.Row[]>): Promise<string[]> => (await q).map((r) => r['id'] as string);
  const [orders, order_items, users, product_inventory, events, payment_transactions, tenantIds] = await Promise.all([
    ids(tx`SELECT id FROM orders ORDER BY id`),
    ids(tx`SELECT id FROM order_items ORDER BY id`),
    ids(tx`SELECT id FROM users ORDER BY id`),
    ids(tx`SELECT id FROM product_inventory ORDER BY id`),
    ids(tx`SELECT id FROM events ORDER BY id`),
    ids(tx`SELECT id FROM payment_transactions ORDER BY id`),
    tx`SELECT DISTINCT tenant_id FROM orders UNION SELECT DISTINCT tenant_id FROM products UNION SELECT DISTINCT tenant_id FROM page_views UNION SELECT id FROM tenants`.then((r) =>
      r.map((x) => x['tenant_id'] as string).sort(),
    ),
  ]);
  return { orders, order_items, users, product_inventory, events, payment_transactions, tenantIds };
}

beforeAll(async () => {
  db = await platformDatabase('pooling');
  const r = await db.apply();
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const sql = db.sql;
  for (const [, id] of TENANTS) {
    const col = async (q: Promise<postgres.Row[]>): Promise<string[]> => (await q).map((x) => x['id'] as string);
    truth.set(id, {
      orders: await col(sql`SELECT id FROM orders WHERE tenant_id = ${id} ORDER BY id`),
      order_items: await col(sql`SELECT i.id FROM order_items i JOIN orders o ON o.id = i.order_id WHERE o.tenant_id = ${id} ORDER BY i.id`),
      users: await col(sql`SELECT user_id AS id FROM tenant_users WHERE tenant_id = ${id} ORDER BY user_id`),
      product_inventory: await col(
        sql`SELECT i.id FROM product_inventory i JOIN product_variants v ON v.id = i.variant_id JOIN products p ON p.id = v.product_id WHERE p.tenant_id = ${id} ORDER BY i.id`,
      ),
      events: await col(sql`SELECT id FROM events WHERE tenant_id = ${id} ORDER BY id`),
      payment_transactions: await col(sql`SELECT t.id FROM payment_transactions t JOIN payments p ON p.id = t.payment_id WHERE p.tenant_id = ${id} ORDER BY t.id`),
    });
  }
});

afterAll(async () => {
  await db?.dispose();
});

describe('the ground truth', () => {
  it('has rows for every tenant in every table the transactions read, and users shared by two tenants', async () => {
    // 20 users per tenant, and every 7th user (14 of 100) also belongs to the next tenant.
    expect(TENANTS.map(([, id]) => truth.get(id)!.users.length)).toEqual([22, 23, 23, 23, 23]);
    for (const [, id] of TENANTS) {
      const t = truth.get(id)!;
      expect(t.orders).toHaveLength(30);
      expect(t.events).toHaveLength(60);
      expect(t.order_items.length).toBeGreaterThan(30);
      expect(t.product_inventory).toHaveLength(20);
      expect(t.payment_transactions).toHaveLength(36);
    }
    expect(await db.sql`SELECT count(*)::int AS n FROM (SELECT user_id FROM tenant_users GROUP BY user_id HAVING count(*) > 1) x`).toEqual([{ n: 14 }]);
  });
});

describe('a pool of 3 connections serving 5 tenants', () => {
  it('300 concurrent transactions each see exactly their own tenant, over no more than 3 backends', async () => {
    const pool = db.connect('storefront', { max: 3 });
    const backends = new Set<number>();
    const results = await Promise.all(
      Array.from({ length: 300 }, (_, i) => {
        const [slug, id] = TENANTS[(i * 7) % TENANTS.length]!;
        return pool.begin(async (tx) => {
          await tx`SELECT set_config('app.current_tenant_id', ${id}, true)`;
          const [{ pid, setting }] = (await tx`SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant_id') AS setting`) as unknown as [{ pid: number; setting: string }];
          backends.add(pid);
          const seen = await readAll(tx);
          return { slug, id, setting, seen };
        });
      }),
    );
    expect(backends.size).toBeLessThanOrEqual(3);
    expect(backends.size).toBeGreaterThan(1);
    const perTenant = new Map<string, number>();
    for (const { slug, id, setting, seen } of results) {
      perTenant.set(slug, (perTenant.get(slug) ?? 0) + 1);
      expect(setting).toBe(id);
      expect(seen.tenantIds).toEqual([id]);
      const { tenantIds: _, ...tables } = seen;
      expect(tables).toEqual(truth.get(id));
    }
    expect([...perTenant.values()]).toEqual([60, 60, 60, 60, 60]);
  });

  it('between transactions the same connections see zero rows: no tenant is set', async () => {
    const pool = db.connect('storefront', { max: 3 });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        pool.begin(async (tx) => {
          await tx`SELECT set_config('app.current_tenant_id', ${TENANTS[i % 5]![1]}, true)`;
          return tx`SELECT count(*) FROM orders`;
        }),
      ),
    );
    const after = await Promise.all(
      Array.from({ length: 30 }, () => pool`SELECT pg_backend_pid() AS pid, current_setting('app.current_tenant_id', true) AS setting, (SELECT count(*)::int FROM orders) AS n`),
    );
    expect(new Set(after.map((r) => r[0]!['pid'])).size).toBeLessThanOrEqual(3);
    for (const r of after) expect(r[0]).toMatchObject({ setting: '', n: 0 });
    const empty = await readAll(pool);
    expect(empty).toEqual({ orders: [], order_items: [], users: [], product_inventory: [], events: [], payment_transactions: [], tenantIds: [] });
  });

  it('a fresh connection that never set the tenant sees zero rows in every table', async () => {
    const app = db.connect('storefront');
    const tables = (await db.sql`SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`).map((r) => r['relname'] as string);
    expect(tables).toHaveLength(18);
    for (const t of tables) {
      expect({ t, rows: await app.unsafe(`SELECT count(*)::int AS n FROM ${t}`) }).toEqual({ t, rows: [{ n: 0 }] });
    }
  });

  it('the setting ends with its transaction: the next transaction on the same connection sees nothing', async () => {
    const one = db.connect('storefront', { max: 1 });
    const first = await one.begin(async (tx) => {
      await tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.acme}, true)`;
      return tx`SELECT pg_backend_pid() AS pid, count(*)::int AS n FROM orders GROUP BY 1`;
    });
    const second = await one.begin(async (tx) => tx`SELECT pg_backend_pid() AS pid, (SELECT count(*)::int FROM orders) AS n`);
    expect(second[0]!['pid']).toBe(first[0]!['pid']);
    expect(first[0]!['n']).toBe(30);
    expect(second[0]!['n']).toBe(0);
    // SET LOCAL works the same way.
    const local = await one.begin(async (tx) => {
      await tx.unsafe(`SET LOCAL app.current_tenant_id = '${PLATFORM_TENANTS.globex}'`);
      return tx`SELECT DISTINCT tenant_id FROM orders`;
    });
    expect(local).toEqual([{ tenant_id: PLATFORM_TENANTS.globex }]);
    expect(await one`SELECT count(*)::int AS n FROM orders`).toEqual([{ n: 0 }]);
  });

  it('a rolled-back transaction does not leave its tenant behind either', async () => {
    const one = db.connect('storefront', { max: 1 });
    await expect(
      one.begin(async (tx) => {
        await tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.hooli}, true)`;
        await tx`SELECT 1 / 0`;
      }),
    ).rejects.toMatchObject({ code: '22012' });
    expect(await one`SELECT count(*)::int AS n FROM orders`).toEqual([{ n: 0 }]);
  });

  it('the mistake the docs warn about: a session-level set_config(..., false) outlives the transaction', async () => {
    // This is PostgreSQL's behaviour, not tenantctl's: a pooled connection handed to the next request keeps a
    // session setting. Hence set_config(..., true) / SET LOCAL in every transaction (docs/pooling.md).
    const one = db.connect('storefront', { max: 1 });
    await one.begin(async (tx) => tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.initech}, false)`);
    expect(await one`SELECT DISTINCT tenant_id FROM orders`).toEqual([{ tenant_id: PLATFORM_TENANTS.initech }]);
    await one`RESET app.current_tenant_id`;
    expect(await one`SELECT count(*)::int AS n FROM orders`).toEqual([{ n: 0 }]);
  });

  it('the same transaction can switch tenants (the app is trusted to name any tenant), and sees one at a time', async () => {
    const app = db.connect('storefront');
    const seen = await app.begin(async (tx) => {
      await tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.acme}, true)`;
      const a = await tx`SELECT DISTINCT tenant_id FROM orders`;
      await tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.umbrella}, true)`;
      const b = await tx`SELECT DISTINCT tenant_id FROM orders`;
      return [a, b];
    });
    expect(seen).toEqual([[{ tenant_id: PLATFORM_TENANTS.acme }], [{ tenant_id: PLATFORM_TENANTS.umbrella }]]);
  });

  it('an unregistered tenant id, an empty id and an archived tenant give zero rows; a malformed id fails', async () => {
    const app = db.connect('storefront');
    const count = (value: string): Promise<postgres.Row[]> =>
      app.begin(async (tx) => {
        await tx`SELECT set_config('app.current_tenant_id', ${value}, true)`;
        return tx`SELECT count(*)::int AS n FROM orders`;
      }) as Promise<postgres.Row[]>;
    expect(await count('10000000-0000-4000-8000-0000000000ff')).toEqual([{ n: 0 }]);
    expect(await count('')).toEqual([{ n: 0 }]);
    await expect(count('acme')).rejects.toMatchObject({ code: '22P02', message: 'invalid input syntax for type uuid: "acme"' });
    await db.sql`UPDATE tenant_registry.tenants SET status = 'archived' WHERE slug = 'hooli'`;
    try {
      expect(await count(PLATFORM_TENANTS.hooli)).toEqual([{ n: 0 }]);
    } finally {
      await db.sql`UPDATE tenant_registry.tenants SET status = 'active' WHERE slug = 'hooli'`;
    }
    expect(await count(PLATFORM_TENANTS.hooli)).toEqual([{ n: 30 }]);
  });

  it('writes land in the transaction\'s tenant only, across pooled connections', async () => {
    const pool = db.connect('storefront', { max: 3 });
    await Promise.all(
      TENANTS.map(([slug, id]) =>
        pool.begin(async (tx) => {
          await tx`SELECT set_config('app.current_tenant_id', ${id}, true)`;
          await tx`UPDATE products SET brand = ${'pooled ' + slug} WHERE sku LIKE '%-00001'`;
        }),
      ),
    );
    expect(await db.sql`SELECT t.domain, p.brand FROM products p JOIN tenants t ON t.id = p.tenant_id WHERE p.brand LIKE 'pooled %' ORDER BY 1`).toEqual(
      TENANTS.map(([slug]) => ({ domain: `${slug}.example.com`, brand: `pooled ${slug}` })).sort((a, b) => a.domain.localeCompare(b.domain)),
    );
    await expect(
      pool.begin(async (tx) => {
        await tx`SELECT set_config('app.current_tenant_id', ${PLATFORM_TENANTS.acme}, true)`;
        await tx`INSERT INTO categories (tenant_id, name, slug) VALUES (${PLATFORM_TENANTS.globex}, 'Sneaky', 'sneaky')`;
      }),
    ).rejects.toMatchObject({ message: 'new row violates row-level security policy for table "categories"' });
    expect(await db.sql`SELECT count(*)::int AS n FROM categories WHERE slug = 'sneaky'`).toEqual([{ n: 0 }]);
  });
});
