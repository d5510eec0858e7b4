// The catalog takes the rendering of a policy or a view from tenantctl.applied while the node tree PostgreSQL
// stored is the one apply recorded (its fingerprint), and renders it again only when the tree differs: a no-op
// plan then renders nothing. These tests check that the record is used only while the tree is unchanged, that a
// changed tree with an equal rendering is not drift, and the upgrade of a database applied before fingerprints.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCatalog } from '../../src/catalog/read.js';
import { runCli } from '../helpers/cli.js';
import { applyFile, DEMO_POLICIES, demoDatabase, demoEnv, type DemoDatabase } from '../helpers/demo.js';

let db: DemoDatabase;

async function plan(): Promise<{ code: number; objects: string[]; stdout: string }> {
  const r = await runCli(['plan', DEMO_POLICIES, '--format', 'json', '--detailed-exitcode'], { env: demoEnv(db) });
  expect(r.stderr).not.toMatch(/error/);
  const json = JSON.parse(r.stdout) as { changes: { object: string; reason?: string }[] };
  return { code: r.code, objects: json.changes.map((c) => `${c.object}${c.reason ? ` (${c.reason})` : ''}`), stdout: r.stdout };
}

async function expectNoChanges(): Promise<void> {
  const r = await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: demoEnv(db) });
  expect(r).toMatchObject({ code: 0, stdout: 'No changes.\n' });
}

/** The policy `name` on public.orders as the catalog reads it (search_path pinned as plan pins it). */
async function catalogPolicy(name: string): Promise<{ using?: string }> {
  const state = await db.sql.begin(async (tx) => {
    await tx.unsafe('SET LOCAL search_path TO public');
    return readCatalog(tx, { schemas: ['public'], registrySchema: 'tenant_registry' });
  });
  const p = state.policies.find((x) => x.table === 'orders' && x.name === name);
  expect(p).toBeDefined();
  return p!;
}

async function ordersReadPolicy(): Promise<string> {
  const [p] = await db.sql`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'public.orders'::regclass AND polname LIKE 'tenantctl\\_%' AND polcmd = 'r' ORDER BY polname LIMIT 1`;
  return p?.['name'] as string;
}

beforeAll(async () => {
  db = await demoDatabase('recorded');
  const r = await applyFile(db, DEMO_POLICIES);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await db.drop();
});

describe('recorded renderings', () => {
  it('apply records a fingerprint for every policy and view, and none for the other records', async () => {
    const [counts] = await db.sql`
      SELECT count(*) FILTER (WHERE object LIKE 'policy %' OR object LIKE 'view %')::int AS objects,
             count(fingerprint) FILTER (WHERE object LIKE 'policy %' OR object LIKE 'view %')::int AS fingerprinted,
             count(fingerprint) FILTER (WHERE NOT (object LIKE 'policy %' OR object LIKE 'view %'))::int AS others
        FROM tenantctl.applied`;
    const [live] = await db.sql`
      SELECT (SELECT count(*)::int FROM pg_policy WHERE polrelid IN (SELECT oid FROM pg_class WHERE relnamespace = 'public'::regnamespace) AND polname LIKE 'tenantctl\\_%')
           + (SELECT count(*)::int FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND n.nspname LIKE 'tenantctl\\_%') AS n`;
    expect(counts).toEqual({ objects: live?.['n'], fingerprinted: live?.['n'], others: 0 });
    expect(live?.['n']).toBeGreaterThan(10);
    await expectNoChanges();
  });

  it('reads the recorded rendering while the tree is unchanged, and renders a changed tree again', async () => {
    const name = await ordersReadPolicy();
    const key = `policy public.orders ${name}`;
    const live = (await catalogPolicy(name)).using;
    expect(live).toMatch(/tenantctl\.attr/);
    // The record says something else about the same tree: the catalog believes the record (it does not render).
    const [before] = await db.sql`SELECT rendered FROM tenantctl.applied WHERE object = ${key}`;
    const rendered = before?.['rendered'] as string;
    await db.sql`UPDATE tenantctl.applied SET rendered = ${JSON.stringify({ ...JSON.parse(rendered), using: 'recorded' })} WHERE object = ${key}`;
    expect((await catalogPolicy(name)).using).toBe('recorded');
    // Another tree: rendered again, whatever the record says.
    await db.sql.unsafe(`ALTER POLICY "${name}" ON public.orders USING (false)`);
    expect((await catalogPolicy(name)).using).toBe('false');
    // The first expression written again by hand, the record restored. PostgreSQL < 17 keeps source positions in
    // the stored tree, so this is another tree with the same rendering (rendered again); 17 and later store no
    // positions, so it is the recorded tree again (the record is read). Either way the rendering is the one
    // recorded, so it is not drift.
    await db.sql`UPDATE tenantctl.applied SET rendered = ${rendered} WHERE object = ${key}`;
    await db.sql.unsafe(`ALTER POLICY "${name}" ON public.orders USING (${live})`);
    expect((await catalogPolicy(name)).using).toBe(live);
    await expectNoChanges();
  });

  it('a view edited by hand is drift although its record is unchanged', async () => {
    const [v] = await db.sql`
      SELECT n.nspname::text AS schema FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relname = 'orders' AND c.relkind = 'v' AND n.nspname LIKE 'tenantctl\\_%' ORDER BY 1 LIMIT 1`;
    const schema = v?.['schema'] as string;
    const def = (await db.sql`SELECT pg_get_viewdef(${`"${schema}".orders`}::regclass, true) AS d`)[0]?.['d'] as string;
    // Same columns and rows (LIMIT ALL), but another definition.
    await db.sql.unsafe(`CREATE OR REPLACE VIEW "${schema}".orders AS ${def.replace(/;\s*$/, '')} LIMIT ALL`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.objects).toEqual([`view ${schema}.orders (drift: the view was changed outside tenantctl)`]);
    const applied = await applyFile(db, DEMO_POLICIES);
    expect(applied.code).toBe(0);
    await expectNoChanges();
  });

  it('upgrades a database applied before fingerprints: the runtime, no drift, then fingerprints recorded', async () => {
    await db.sql.unsafe(`ALTER TABLE tenantctl.applied DROP COLUMN fingerprint;
      UPDATE tenantctl.applied SET desired = 'an older runtime.sql' WHERE object = 'runtime'`);
    const r = await plan();
    expect(r.code).toBe(2);
    expect(r.objects).toEqual(['schema tenantctl (runtime)']);
    const applied = await applyFile(db, DEMO_POLICIES);
    expect(applied.stderr).not.toMatch(/error/);
    expect(applied.code).toBe(0);
    const [counts] = await db.sql`
      SELECT count(*)::int AS objects, count(fingerprint)::int AS fingerprinted FROM tenantctl.applied WHERE object LIKE 'policy %' OR object LIKE 'view %'`;
    expect(counts?.['fingerprinted']).toBe(counts?.['objects']);
    await expectNoChanges();
  });
});
