// The per-statement fixed cost of the runtime lookups (issue #9, section 1), taken apart.
//
// One small demo_ecommerce database (the read-overhead loader at a tiny scale, so the tables do not matter),
// tenantctl applied, then the tenant user `bench_reader` runs each statement below side by side, alternating,
// over TCP with postgres.js (as an application would): `SELECT 1`, the shipped lookups, and variants of them
// built next to them in schema `fc` (owned by the operator, as apply's functions are) to find what the cost is
// made of: SECURITY DEFINER, `SET search_path`, PL/pgSQL vs SQL, SPI queries, the nested current_tenant(),
// the number of InitPlans.
//
//   npm run build && node bench/fixed-cost.mjs [--reps 2000] [--only key1,key2] [--loop 2000]
//
// Prints, per statement: median and p10 in ms of the client round trip, the difference with `SELECT 1`, and
// (with --loop N) the server-side cost of one call, from `SELECT count(f) FROM generate_series(1, N)` / N.
import { benchCluster, log, login, median, ms, num, parseFlags, percentile, urlFor, writeResult, PASSWORD } from './lib.mjs';
import { READER, createEcommerce, slug } from './ecommerce.mjs';

const flags = parseFlags();
const REPS = num(flags, 'reps', 2000);
const WARMUP = num(flags, 'warmup', 200);
const LOOP = num(flags, 'loop', 0);
const DATABASE = 'fixedcost';
const SCALE = { tenants: 10, customers: 1000, orders: 2000, items: 6000, productsPerTenant: 10 };
const TENANT = slug(4);
// --mode prepared (default) | unprepared

// Variants built by the operator next to the shipped functions. REG is the registry schema.
const REG = 'tenant_registry';
const VARIANT_SQL = `
CREATE SCHEMA fc;
GRANT USAGE ON SCHEMA fc TO PUBLIC;
-- The cost of calling a PL/pgSQL function at all, then of SECURITY DEFINER, then of SET search_path.
CREATE FUNCTION fc.plain() RETURNS text LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN 'x'; END $$;
CREATE FUNCTION fc.definer() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$ BEGIN RETURN 'x'; END $$;
CREATE FUNCTION fc.definer_set() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$ BEGIN RETURN 'x'; END $$;
-- One SPI query (principals only), with and without the SET.
CREATE FUNCTION fc.one_query_set() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN RETURN (SELECT p.tenant FROM tenantctl.principals p WHERE p.role = session_user); END $$;
CREATE FUNCTION fc.one_query() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN RETURN (SELECT p.tenant FROM tenantctl.principals p WHERE p.role OPERATOR(pg_catalog.=) session_user); END $$;
-- One SPI query joining principals and the registry (a user's tenant), with and without the SET.
CREATE FUNCTION fc.join_set() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN RETURN (SELECT t.slug FROM tenantctl.principals p JOIN ${REG}.tenants t ON t.slug = p.tenant
  WHERE p.role = session_user AND t.status <> 'archived'); END $$;
CREATE FUNCTION fc.join_noset() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER AS $$
BEGIN RETURN (SELECT t.slug FROM tenantctl.principals p JOIN ${REG}.tenants t ON t.slug OPERATOR(pg_catalog.=) p.tenant
  WHERE p.role OPERATOR(pg_catalog.=) session_user AND t.status OPERATOR(pg_catalog.<>) 'archived'); END $$;
-- Two SPI queries (principals, then the registry) in one function: the shape of a user/app-aware lookup.
CREATE FUNCTION fc.two_queries_set() RETURNS text LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE p tenantctl.principals; s text;
BEGIN
  SELECT * INTO p FROM tenantctl.principals WHERE role = session_user;
  IF NOT FOUND THEN RETURN NULL; END IF;
  SELECT t.slug INTO s FROM ${REG}.tenants t WHERE t.slug = p.tenant AND t.status <> 'archived';
  RETURN s;
END $$;
-- The same, the SELECT INTO of a record through a simple assignment-free form.
-- LANGUAGE sql: SECURITY DEFINER is never inlined; PostgreSQL < 18 re-plans the body per statement.
CREATE FUNCTION fc.sql_join_set() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT t.slug FROM tenantctl.principals p JOIN ${REG}.tenants t ON t.slug = p.tenant
  WHERE p.role = session_user AND t.status <> 'archived' $$;
CREATE FUNCTION fc.sql_join_noset() RETURNS text LANGUAGE sql STABLE SECURITY DEFINER AS $$
  SELECT t.slug FROM tenantctl.principals p JOIN ${REG}.tenants t ON t.slug OPERATOR(pg_catalog.=) p.tenant
  WHERE p.role OPERATOR(pg_catalog.=) session_user AND t.status OPERATOR(pg_catalog.<>) 'archived' $$;
-- An inlinable SQL function (not SECURITY DEFINER): only the caller's own principals row, which RLS lets it read.
CREATE FUNCTION fc.sql_inline_principal() RETURNS text LANGUAGE sql STABLE AS $$
  SELECT p.tenant FROM tenantctl.principals p WHERE p.role OPERATOR(pg_catalog.=) session_user $$;
-- A security_barrier view of the caller's own principal and tenant, read by the template in place of a call:
-- planned with the statement (cached when prepared), no function call, no SPI.
CREATE VIEW fc.me WITH (security_barrier) AS
  SELECT p.role, p.kind, t.slug AS tenant, t.id AS tenant_id, (p.kind = 'user' AND p.tenant IS NULL) OR t.id IS NOT NULL AS visible
    FROM tenantctl.principals p LEFT JOIN ${REG}.tenants t ON t.slug = p.tenant AND t.status <> 'archived'
   WHERE p.role = session_user;
GRANT SELECT ON fc.me TO PUBLIC;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA fc TO PUBLIC;
`;

const STATEMENTS = [
  ['one', 'SELECT 1'],
  ['const', `SELECT '${TENANT}'::text`],
  ['initplan_const', `SELECT (SELECT '${TENANT}'::text)`],
  ['attr', "SELECT tenantctl.attr('tenant')"],
  ['visible', 'SELECT tenantctl.visible()'],
  ['writable', 'SELECT tenantctl.writable()'],
  ['attr_name', "SELECT tenantctl.attr('name')"],
  ['guard_and_attr', "SELECT (SELECT tenantctl.visible()) AND (SELECT tenantctl.attr('tenant')) IS NOT NULL"],
  ['plain', 'SELECT fc.plain()'],
  ['definer', 'SELECT fc.definer()'],
  ['definer_set', 'SELECT fc.definer_set()'],
  ['one_query_set', 'SELECT fc.one_query_set()'],
  ['one_query', 'SELECT fc.one_query()'],
  ['join_set', 'SELECT fc.join_set()'],
  ['join_noset', 'SELECT fc.join_noset()'],
  ['two_queries_set', 'SELECT fc.two_queries_set()'],
  ['sql_join_set', 'SELECT fc.sql_join_set()'],
  ['sql_join_noset', 'SELECT fc.sql_join_noset()'],
  ['sql_inline_principal', 'SELECT fc.sql_inline_principal()'],
  ['view_tenant', 'SELECT (SELECT m.tenant FROM fc.me m)'],
  ['view_guard_and_tenant', 'SELECT (SELECT m.visible FROM fc.me m) AND (SELECT m.tenant FROM fc.me m) IS NOT NULL'],
  // The compiled read of one row, and the same with the guard and template replaced by constants.
  ['org_compiled', 'SELECT name FROM organizations'],
];

async function main() {
  const only = typeof flags.only === 'string' ? new Set(flags.only.split(',')) : undefined;
  const statements = STATEMENTS.filter(([k]) => !only || only.has(k) || k === 'one');
  const cluster = await benchCluster();
  try {
    const loaded = await createEcommerce(cluster, DATABASE, SCALE, TENANT);
    const op = login(loaded.operatorUrl);
    await op.unsafe(VARIANT_SQL);
    if (flags.runtime && typeof flags.runtime === 'string') {
      // Install another runtime.sql over the shipped one (what apply would do), to compare before/after.
      const { readFileSync } = await import('node:fs');
      await op.unsafe(readFileSync(flags.runtime, 'utf8').replaceAll(':registry', REG));
      log(`installed ${flags.runtime}`);
    }
    await op.end();
    const reader = login(urlFor(cluster, DATABASE, READER, PASSWORD));
    const times = Object.fromEntries(statements.map(([k]) => [k, []]));
    const values = {};
    // simple: false, or postgres.js sends a parameterless unsafe() with the simple protocol (never prepared).
    const modes = flags.mode === 'unprepared' ? [false] : [true];
    for (const prepare of modes) {
      for (const [k, s] of statements) {
        values[k] = (await reader.unsafe(s, [], { prepare, simple: false }))[0];
        for (let w = 0; w < WARMUP; w++) await reader.unsafe(s, [], { prepare, simple: false });
      }
      for (let i = 0; i < REPS; i++) {
        for (let j = 0; j < statements.length; j++) {
          const [k, s] = statements[(i + j) % statements.length];
          const t0 = process.hrtime.bigint();
          await reader.unsafe(s, [], { prepare, simple: false });
          times[k].push(ms(t0));
        }
      }
    }
    const loop = {};
    if (LOOP > 0) {
      for (const [k, s] of statements) {
        const m = /^SELECT (.+)$/.exec(s);
        if (!m || k === 'org_compiled' || k === 'guard_and_attr' || k === 'initplan_const') continue;
        const q = `SELECT count(${m[1]}) FROM generate_series(1, ${LOOP})`;
        const xs = [];
        for (let r = 0; r < 12; r++) {
          const t0 = process.hrtime.bigint();
          await reader.unsafe(q);
          xs.push(ms(t0));
        }
        loop[k] = median(xs.slice(2)) / LOOP;
      }
    }
    await reader.end();
    const base = median(times.one);
    const rows = statements.map(([k, s]) => {
      const m = median(times[k]);
      return { key: k, sql: s, median: m, p10: percentile(times[k], 10), p90: percentile(times[k], 90), diff: m - base, perCallUs: loop[k] === undefined ? undefined : loop[k] * 1000, value: values[k] };
    });
    console.log(`| statement | median ms | p10 ms | vs SELECT 1 ms |${LOOP ? ' server µs/call |' : ''} value |`);
    console.log(`|---|---:|---:|---:|${LOOP ? '---:|' : ''}---|`);
    for (const r of rows) {
      console.log(`| \`${r.sql}\` | ${r.median.toFixed(4)} | ${r.p10.toFixed(4)} | ${r.diff >= 0 ? '+' : ''}${r.diff.toFixed(4)} |${LOOP ? ` ${r.perCallUs === undefined ? '' : r.perCallUs.toFixed(1)} |` : ''} ${JSON.stringify(r.value)} |`);
    }
    const os = await import('node:os');
    writeResult(`fixed-cost${flags.label ? `-${flags.label}` : ''}`, { reps: REPS, loadAverage: os.loadavg(), rows });
  } finally {
    await cluster.stop();
  }
}

await main();
