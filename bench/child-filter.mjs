// How to write the filter of a child table (order_items, payments: no org column of their own), side by side
// on the read-overhead data: the demo fixture's `order_id IN (SELECT id FROM orders WHERE org = {user.tenant})`
// against a correlated `EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.org = {user.tenant})`.
// One database, two tenant users of the same tenant, each with one of the two filters on the child tables (the
// rest of the demo policies identical), and the BYPASSRLS baseline with hand-written filters.
//
//   npm run build && node bench/child-filter.mjs [--tenants 100 --customers 20000 --orders 200000] [--reps 30] [--only join,allItems,itemsOfOrder] [--org-id-index]
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import YAML from 'yaml';
import { ROOT, PASSWORD, benchCluster, cli, log, login, median, ms, num, parseFlags, percentile, urlFor } from './lib.mjs';
import { BASELINE, createEcommerce, scaleFrom, slug } from './ecommerce.mjs';

const flags = parseFlags();
const scale = scaleFrom(flags, { tenants: 100, customers: 20_000, orders: 200_000 });
const REPS = num(flags, 'reps', 30);
const TENANT = slug(Math.floor(scale.tenants / 2) - 1);
const DATABASE = 'childfilter';
const IN_USER = 'bench_in';
const EXISTS_USER = 'bench_exists';
const EXISTS_FILTER = 'EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.org = {user.tenant})';

function policyText() {
  const doc = YAML.parse(readFileSync(join(ROOT, 'fixtures', 'demo_ecommerce', 'policies.yaml'), 'utf8'));
  doc.users = [IN_USER, EXISTS_USER].map((name) => ({ name, password: { env: 'BENCH_PASSWORD' }, tenant: TENANT, access: 'read' }));
  const children = doc.policies.find((p) => p.name === 'tenant-isolation-children');
  doc.policies = doc.policies.filter((p) => p !== children);
  doc.policies.push(
    { name: 'children-in', type: 'row_filter', tables: children.tables, filter: 'order_id IN (SELECT id FROM orders WHERE org = {user.tenant})' },
    { name: 'children-exists', type: 'row_filter', tables: children.tables, filter: EXISTS_FILTER },
  );
  doc.assignments = doc.assignments.filter((a) => a.policy !== 'tenant-isolation-children');
  doc.assignments.push({ policy: 'children-in', to: { user: IN_USER } }, { policy: 'children-exists', to: { user: EXISTS_USER } });
  return YAML.stringify(doc);
}

const since = "timestamptz '2025-12-01 00:00+00'";
const T = `'${TENANT}'`;
const QUERIES = [
  {
    key: 'join', title: 'Orders ⋈ customers ⋈ order_items, sum (last 31 days)',
    tenant: `SELECT c.id, c.last_name, sum(oi.quantity * oi.unit_price) AS total FROM orders o JOIN customers c ON c.id = o.customer_id
      JOIN order_items oi ON oi.order_id = o.id WHERE o.created_at >= ${since} GROUP BY c.id, c.last_name ORDER BY total DESC, c.id LIMIT 10`,
    baseline: `SELECT c.id, c.last_name, sum(oi.quantity * oi.unit_price) AS total FROM orders o JOIN customers c ON c.id = o.customer_id
      JOIN order_items oi ON oi.order_id = o.id WHERE o.org = ${T} AND c.org = ${T} AND o.created_at >= ${since} GROUP BY c.id, c.last_name ORDER BY total DESC, c.id LIMIT 10`,
  },
  {
    key: 'allItems', title: "Every order item of the tenant (count, sum)",
    tenant: `SELECT count(*), sum(quantity * unit_price) FROM order_items`,
    baseline: `SELECT count(*), sum(oi.quantity * oi.unit_price) FROM order_items oi WHERE oi.order_id IN (SELECT id FROM orders WHERE org = ${T})`,
  },
  {
    key: 'itemsOfOrder', title: 'The items of one order (by order_id)',
    tenant: `SELECT id, product_id, quantity, unit_price FROM order_items WHERE order_id = $1`,
    baseline: `SELECT oi.id, oi.product_id, oi.quantity, oi.unit_price FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.order_id = $1 AND o.org = ${T}`,
    param: true,
  },
];

async function main() {
  const cluster = await benchCluster();
  try {
    const loaded = await createEcommerce(cluster, DATABASE, scale, TENANT);
    const dir = mkdtempSync(join(tmpdir(), 'tenantctl-child-'));
    const file = join(dir, 'policies.yaml');
    writeFileSync(file, policyText());
    cli(['apply', file, '--yes'], { DATABASE_URL: loaded.operatorUrl, BENCH_PASSWORD: PASSWORD });
    const url = (u) => urlFor(cluster, DATABASE, u, PASSWORD);
    const conns = { baseline: login(url(BASELINE)), in: login(url(IN_USER)), exists: login(url(EXISTS_USER)) };
    const db = login(cluster.url(DATABASE));
    if (flags['org-id-index']) {
      // What the IN form's sub-select needs to read the tenant's order ids without visiting the heap (an
      // index-only scan, once VACUUM has set the visibility map).
      await db.unsafe('CREATE INDEX orders_org_id_idx ON orders (org, id)');
      await db.unsafe('VACUUM ANALYZE orders');
      log('created orders (org, id) and vacuumed');
    }
    const [{ id: orderId }] = await db.unsafe(`SELECT id FROM orders WHERE org = $1 ORDER BY created_at DESC LIMIT 1`, [TENANT]);
    await db.end();
    const variants = Object.keys(conns);
    const only = typeof flags.only === 'string' ? flags.only.split(',') : undefined;
    for (const q of QUERIES.filter((x) => !only || only.includes(x.key))) {
      const params = q.param ? [orderId] : [];
      const sqlFor = (v) => (v === 'baseline' ? q.baseline : q.tenant);
      const results = {};
      for (const v of variants) {
        results[v] = await conns[v].unsafe(sqlFor(v), params, { prepare: true, simple: false });
        for (let w = 0; w < 3; w++) await conns[v].unsafe(sqlFor(v), params, { prepare: true, simple: false });
      }
      const same = variants.every((v) => JSON.stringify(results[v]) === JSON.stringify(results.baseline));
      const times = Object.fromEntries(variants.map((v) => [v, []]));
      for (let i = 0; i < REPS; i++) {
        for (let j = 0; j < variants.length; j++) {
          const v = variants[(i + j) % variants.length];
          const t0 = process.hrtime.bigint();
          await conns[v].unsafe(sqlFor(v), params, { prepare: true, simple: false });
          times[v].push(ms(t0));
        }
      }
      const b = median(times.baseline);
      console.log(`\n${q.title} (${REPS} reps, same rows: ${same})`);
      for (const v of variants) {
        const m = median(times[v]);
        console.log(`  ${v.padEnd(8)} median ${m.toFixed(3)} ms  p10 ${percentile(times[v], 10).toFixed(3)}  p90 ${percentile(times[v], 90).toFixed(3)}  ratio ${(m / b).toFixed(2)}`);
      }
      for (const v of ['in', 'exists']) {
        const inlined = sqlFor(v).replace('$1', `'${orderId}'`);
        const plan = await conns[v].unsafe(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING ON, SUMMARY ON) ${inlined}`);
        console.log(`  EXPLAIN ${v}:\n${plan.map((r) => `    ${r['QUERY PLAN']}`).join('\n')}`);
      }
    }
    for (const c of Object.values(conns)) await c.end();
    log('done');
  } finally {
    await cluster.stop();
  }
}

await main();
