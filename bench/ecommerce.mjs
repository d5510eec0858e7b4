// A demo_ecommerce-shaped database at scale: the fixture's schema, data made with generate_series, the tenant
// registry with one tenant per organization, and fixtures/demo_ecommerce/policies.yaml applied with two
// benchmark users (one read, one readwrite) in place of the demo's three.
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT, PASSWORD, cli, log, login, ms, urlFor } from './lib.mjs';

export const OPERATOR = { user: 'bench_admin', password: 'bench-admin-pw' };
export const READER = 'bench_reader';
export const WRITER = 'bench_writer';
export const BASELINE = 'bench_owner'; // BYPASSRLS, same grants as the owner: the hand-written WHERE org = ...

export function slug(i) {
  return `t${String(i + 1).padStart(3, '0')}`;
}

/** The scale: tenants, customers, orders (3 items each), products per tenant. */
export function scaleFrom(flags, defaults) {
  const s = { ...defaults };
  for (const k of ['tenants', 'customers', 'orders']) if (flags[k] !== undefined) s[k] = Number(String(flags[k]).replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'));
  s.items = s.orders * 3;
  s.productsPerTenant = 100;
  if (s.customers < s.tenants) s.customers = s.tenants;
  s.customers -= s.customers % s.tenants; // every tenant gets the same number of customers
  return s;
}

/** The policy file: the demo fixture's, with the benchmark users. */
export function policyText(tenant) {
  const doc = YAML.parse(readFileSync(join(ROOT, 'fixtures', 'demo_ecommerce', 'policies.yaml'), 'utf8'));
  doc.users = [
    { name: READER, password: { env: 'BENCH_PASSWORD' }, tenant, access: 'read' },
    { name: WRITER, password: { env: 'BENCH_PASSWORD' }, tenant, access: 'readwrite' },
  ];
  return YAML.stringify(doc);
}

export async function createEcommerce(cluster, database, scale, tenant) {
  const timings = {};
  const su = login(cluster.url());
  await su.unsafe(`CREATE ROLE ${OPERATOR.user} LOGIN CREATEROLE PASSWORD '${OPERATOR.password}'`);
  await su.unsafe(`CREATE DATABASE ${database} OWNER ${OPERATOR.user}`);
  await su.end();
  const operatorUrl = urlFor(cluster, database, OPERATOR.user, OPERATOR.password);
  const op = login(operatorUrl);
  await op.unsafe(readFileSync(join(ROOT, 'fixtures', 'demo_ecommerce', 'schema.sql'), 'utf8'));
  await op.end();

  // Bulk load as the superuser: the data is consistent by construction, so foreign-key triggers are skipped
  // (session_replication_role = replica) and secondary indexes are built after the load.
  const db = login(cluster.url(database));
  await db.unsafe(`SET session_replication_role = replica; SET maintenance_work_mem = '512MB'; SET synchronous_commit = off`);
  const indexes = await db`SELECT indexname, indexdef FROM pg_indexes i
    WHERE schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`;
  for (const i of indexes) await db.unsafe(`DROP INDEX public.${i.indexname}`);
  const T = scale.tenants;
  const P = scale.productsPerTenant;
  const cpt = scale.customers / T;
  const org = (expr) => `'t' || lpad(((${expr}) % ${T} + 1)::text, 3, '0')`;
  const steps = [
    ['organizations', `INSERT INTO organizations (name, created_at)
       SELECT ${org('i')}, timestamptz '2023-01-01 00:00+00' + i * interval '1 hour' FROM generate_series(0, ${T - 1}) i`],
    ['customers', `INSERT INTO customers (id, org, first_name, last_name, email, phone, ssn, credit_card, created_at)
       SELECT md5('c' || i)::uuid, ${org('i')}, 'First' || i, 'Last' || i, 'c' || i || '@example.com', '+1-555-' || lpad((i % 10000)::text, 4, '0'),
              lpad((100 + i % 900)::text, 3, '0') || '-' || lpad((10 + i % 90)::text, 2, '0') || '-' || lpad((i % 10000)::text, 4, '0'),
              '4' || lpad(i::text, 15, '0'), timestamptz '2023-01-01 00:00+00' + i * interval '1 minute'
       FROM generate_series(0, ${scale.customers - 1}) i`],
    ['products', `INSERT INTO products (id, org, name, description, price, cost_price, margin, created_at)
       SELECT md5('p' || i)::uuid, ${org('i')}, 'Product ' || i, 'Description of product ' || i, 1 + i % 100, (1 + i % 100) * 0.6, 0.4,
              timestamptz '2023-01-01 00:00+00' + i * interval '1 minute'
       FROM generate_series(0, ${T * P - 1}) i`],
    // Order j belongs to tenant j % T and to one of that tenant's customers; created_at spreads every tenant's
    // orders over two years.
    ['orders', `INSERT INTO orders (id, org, customer_id, status, total_amount, created_at, updated_at)
       SELECT md5('o' || j)::uuid, ${org('j')}, md5('c' || (((j / ${T}) % ${cpt}) * ${T} + j % ${T}))::uuid,
              (ARRAY['pending', 'processing', 'shipped', 'delivered', 'cancelled'])[j % 5 + 1], (j % 1000) / 10.0,
              timestamptz '2024-01-01 00:00+00' + (j::float8 * 63072000 / ${scale.orders}) * interval '1 second',
              timestamptz '2024-01-01 00:00+00' + (j::float8 * 63072000 / ${scale.orders}) * interval '1 second'
       FROM generate_series(0, ${scale.orders - 1}) j`],
    ['order_items', `INSERT INTO order_items (id, order_id, product_id, quantity, unit_price, created_at)
       SELECT md5('i' || k)::uuid, md5('o' || (k / 3))::uuid, md5('p' || ((k % ${P}) * ${T} + (k / 3) % ${T}))::uuid, 1 + k % 5, 1 + k % 50,
              timestamptz '2024-01-01 00:00+00' + ((k / 3)::float8 * 63072000 / ${scale.orders}) * interval '1 second'
       FROM generate_series(0, ${scale.items - 1}) k`],
  ];
  for (const [table, statement] of steps) {
    const t0 = process.hrtime.bigint();
    await db.unsafe(statement);
    timings[table] = ms(t0);
    log(`loaded ${table} in ${(timings[table] / 1000).toFixed(1)} s`);
  }
  let t0 = process.hrtime.bigint();
  for (const i of indexes) await db.unsafe(i.indexdef);
  timings.indexes = ms(t0);
  log(`built ${indexes.length} secondary indexes in ${(timings.indexes / 1000).toFixed(1)} s`);
  t0 = process.hrtime.bigint();
  await db.unsafe('VACUUM (ANALYZE, FREEZE)');
  timings.vacuumAnalyze = ms(t0);
  log(`VACUUM ANALYZE in ${(timings.vacuumAnalyze / 1000).toFixed(1)} s`);
  // The baseline login: not the owner (row security is FORCEd on every governed table, so the owner reads
  // nothing), but a BYPASSRLS role with the same table privileges, which runs the hand-written filters.
  await db.unsafe(`CREATE ROLE ${BASELINE} LOGIN BYPASSRLS PASSWORD '${PASSWORD}'`);
  await db.unsafe(`GRANT USAGE ON SCHEMA public TO ${BASELINE}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${BASELINE}`);
  const [size] = await db`SELECT pg_size_pretty(pg_database_size(current_database())) AS size`;
  await db.end();

  // The registry, one tenant per organization, the policies.
  t0 = process.hrtime.bigint();
  const env = { DATABASE_URL: operatorUrl, BENCH_PASSWORD: PASSWORD };
  cli(['migrate', 'up'], env);
  const reg = login(operatorUrl);
  await reg.unsafe(`INSERT INTO tenant_registry.tenants (slug, name, status)
    SELECT name, 'Tenant ' || name, 'active' FROM organizations`);
  await reg.end();
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-bench-'));
  const file = join(dir, 'policies.yaml');
  writeFileSync(file, policyText(tenant));
  cli(['apply', file, '--yes'], env);
  timings.registryAndApply = ms(t0);
  log(`registry migrated, ${T} tenants registered, policies applied in ${(timings.registryAndApply / 1000).toFixed(1)} s`);
  return { operatorUrl, timings, size: size.size, policyFile: file };
}
