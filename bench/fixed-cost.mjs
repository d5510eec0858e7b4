// The per-statement fixed cost of the runtime lookups (issue #9, section 1), taken apart.
//
// One small demo_ecommerce database (the read-overhead loader at a tiny scale, so the tables do not matter),
// tenantctl applied, then the tenant user `bench_reader` runs each statement below side by side, alternating,
// over TCP with postgres.js (as an application would): `SELECT 1`, the shipped lookups, and variants of them
// built next to them in schema `fc` (owned by the operator, as apply's functions are) to find what the cost is
// made of: SECURITY DEFINER, `SET search_path`, PL/pgSQL vs SQL, SPI queries, the nested current_tenant(),
// the number of InitPlans, and lookups that read no table (a tenant believed from role memberships or privileges).
//
//   npm run build && node bench/fixed-cost.mjs [--reps 2000] [--only key1,key2] [--loop 2000] [--mode unprepared]
//   npm run build && node bench/fixed-cost.mjs --pgbench 20 [--mode unprepared]
//
// Prints, per statement: median and p10 in ms of the client round trip, the difference with `SELECT 1`, and
// (with --loop N) the server-side cost of one call, from `SELECT count(f) FROM generate_series(1, N)` / N.
import { loadavg } from 'node:os';
import { benchCluster, log, login, median, ms, num, parseFlags, percentile, pgbenchMeans, urlFor, writeResult, PASSWORD } from './lib.mjs';
import { READER, createEcommerce, slug } from './ecommerce.mjs';

const flags = parseFlags();
const REPS = num(flags, 'reps', 2000);
const WARMUP = num(flags, 'warmup', 200);
const LOOP = num(flags, 'loop', 0);
// --pgbench SECONDS: instead of postgres.js, one pgbench session runs every statement in turn for that long and
// reports each one's mean latency (`pgbench -r`): one backend, one connection, every statement alternating with
// every other, so the differences are the server's own (they repeat within ~0.003 ms from run to run).
const PGBENCH = num(flags, 'pgbench', 0);
const DATABASE = 'fixedcost';
const SCALE = { tenants: 10, customers: 1000, orders: 2000, items: 6000, productsPerTenant: 10 };
const TENANT = slug(4);
// --mode prepared (default) | unprepared

/** A copy of fc.o_plain under one row policy, row security FORCEd (the operator owns it). */
const policyCopy = (name, using) => `CREATE TABLE fc.${name} AS SELECT * FROM fc.o_plain;
CREATE UNIQUE INDEX ON fc.${name} (name);
ALTER TABLE fc.${name} ENABLE ROW LEVEL SECURITY;
ALTER TABLE fc.${name} FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON fc.${name} FOR SELECT USING (${using});`;

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
-- Where a compiled read's cost comes from: copies of the organizations table, read by the tenant user, with no
-- policy, with a constant row policy, with the template's InitPlan, and with that under a view (row security
-- FORCEd: the operator owns the tables and the view, as it owns what apply makes).
-- (Made from generate_series: the operator itself reads nothing of the governed tables, row security is FORCEd.)
CREATE TABLE fc.o_plain AS SELECT 't' || lpad(i::text, 3, '0') AS name, now() AS created_at FROM generate_series(1, 100) i;
CREATE UNIQUE INDEX ON fc.o_plain (name);
${policyCopy('o_const', `name = '${TENANT}'`)}
${policyCopy('o_lookup', "name = (SELECT tenantctl.attr('tenant'))")}
CREATE VIEW fc.v_lookup AS SELECT name, created_at FROM fc.o_lookup;
-- A lookup that reads no table (an idea, not what tenantctl does): the login's tenant named by a setting of the
-- role (ALTER ROLE ... SET, which the user can change) and believed only when the login is a member of that
-- tenant's role (pg_has_role reads the session's cached memberships, which a REVOKE invalidates at once). It says
-- nothing of the registry's status: archived and frozen would need roles too, kept in step with the registry. A
-- placeholder setting in ALTER ROLE needs a superuser on PostgreSQL 15 (or GRANT SET ON PARAMETER): SUPERUSER_SQL.
CREATE ROLE fc_tenant_${TENANT} NOLOGIN;
GRANT fc_tenant_${TENANT} TO ${READER};
CREATE FUNCTION fc.role_lookup() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE t pg_catalog.text := pg_catalog.current_setting('fc.tenant', true);
BEGIN
  IF t IS NULL OR pg_catalog.to_regrole('fc_tenant_' OPERATOR(pg_catalog.||) t) IS NULL
     OR NOT pg_catalog.pg_has_role(session_user, 'fc_tenant_' OPERATOR(pg_catalog.||) t, 'MEMBER') THEN
    RETURN NULL;
  END IF;
  RETURN t;
END $$;
${policyCopy('o_role', 'name = (SELECT fc.role_lookup())')}
GRANT EXECUTE ON FUNCTION fc.role_lookup() TO PUBLIC;
-- The same belief with no function at all (eleventh session): the check written into the policy, so nothing but
-- built-in C functions runs; with the registry's status as a second membership (the tenant's role a member of
-- fc_live while the tenant is not archived), the complete lookup of a user's tenant under that design.
CREATE ROLE fc_live NOLOGIN;
GRANT fc_live TO fc_tenant_${TENANT};
${policyCopy('o_role_inline', `name = (SELECT CASE
  WHEN pg_catalog.pg_has_role(session_user, pg_catalog.to_regrole('fc_tenant_' OPERATOR(pg_catalog.||) pg_catalog.current_setting('fc.tenant', true))::pg_catalog.oid, 'MEMBER')
   AND pg_catalog.pg_has_role(pg_catalog.to_regrole('fc_tenant_' OPERATOR(pg_catalog.||) pg_catalog.current_setting('fc.tenant', true))::pg_catalog.oid, 'fc_live', 'MEMBER')
  THEN pg_catalog.current_setting('fc.tenant', true) END)`)}
-- Roles are cluster-wide while a registry is per database; a privilege on an object of the database is not: the
-- tenant as a schema that holds nothing, USAGE granted to its users while the tenant is not archived.
CREATE SCHEMA fc_t_${TENANT};
GRANT USAGE ON SCHEMA fc_t_${TENANT} TO ${READER};
${policyCopy('o_acl_inline', `name = (SELECT CASE
  WHEN pg_catalog.has_schema_privilege(session_user, pg_catalog.to_regnamespace('fc_t_' OPERATOR(pg_catalog.||) pg_catalog.current_setting('fc.tenant', true))::pg_catalog.oid, 'USAGE')
  THEN pg_catalog.current_setting('fc.tenant', true) END)`)}
GRANT SELECT ON fc.o_plain, fc.o_const, fc.o_lookup, fc.v_lookup, fc.o_role, fc.o_role_inline, fc.o_acl_inline TO PUBLIC;
ANALYZE fc.o_plain, fc.o_const, fc.o_lookup, fc.o_role, fc.o_role_inline, fc.o_acl_inline;
`;

const SUPERUSER_SQL = `ALTER ROLE ${READER} SET fc.tenant = '${TENANT}';`;

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
  ['table_plain', `SELECT name FROM fc.o_plain WHERE name = '${TENANT}'`],
  ['table_const_policy', 'SELECT name FROM fc.o_const'],
  ['table_lookup_policy', 'SELECT name FROM fc.o_lookup'],
  ['view_lookup_policy', 'SELECT name FROM fc.v_lookup'],
  ['role_lookup', 'SELECT fc.role_lookup()'],
  ['table_role_policy', 'SELECT name FROM fc.o_role'],
  ['table_role_inline_policy', 'SELECT name FROM fc.o_role_inline'],
  ['table_acl_inline_policy', 'SELECT name FROM fc.o_acl_inline'],
  // The policy's sub-select reading the caller's own principals row itself (RLS lets each login read its row):
  // no function, no registry (so no archived/frozen status: a measure, not a candidate as it stands).
  ['principals_subselect', 'SELECT (SELECT p.tenant FROM tenantctl.principals p WHERE p.role = session_user)'],
];

async function main() {
  const only = typeof flags.only === 'string' ? new Set(flags.only.split(',')) : undefined;
  const statements = STATEMENTS.filter(([k]) => !only || only.has(k) || k === 'one');
  const cluster = await benchCluster();
  try {
    const loaded = await createEcommerce(cluster, DATABASE, SCALE, TENANT);
    const op = login(loaded.operatorUrl);
    await op.unsafe(VARIANT_SQL);
    const su = login(cluster.url(DATABASE));
    await su.unsafe(SUPERUSER_SQL);
    await su.end();
    if (flags.runtime && typeof flags.runtime === 'string') {
      // Install another runtime.sql over the shipped one (what apply would do), to compare before/after.
      const { readFileSync } = await import('node:fs');
      await op.unsafe(readFileSync(flags.runtime, 'utf8').replaceAll(':registry', REG));
      log(`installed ${flags.runtime}`);
    }
    await op.end();
    if (PGBENCH > 0) {
      pgbenchRun(cluster, statements, flags.mode === 'unprepared' ? 'simple' : 'prepared');
      return;
    }
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
        if (!m || /^(org_compiled|guard_and_attr|initplan_const|table_|view_)/.test(k)) continue;
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

/** One pgbench session over TCP as the tenant user, every statement in turn; per-statement mean latencies. */
function pgbenchRun(cluster, statements, protocol) {
  const means = pgbenchMeans(cluster, { database: DATABASE, user: READER, password: PASSWORD, statements: statements.map(([, s]) => s), protocol, seconds: PGBENCH });
  const rows = statements.map(([k, s], i) => ({ key: k, sql: s, mean: means[i], diff: means[i] - means[0] }));
  console.log(`pgbench -M ${protocol}, ${PGBENCH} s, one session as ${READER}: mean latency per statement`);
  console.log('| statement | mean ms | vs SELECT 1 ms |');
  console.log('|---|---:|---:|');
  for (const row of rows) console.log(`| \`${row.sql}\` | ${row.mean.toFixed(3)} | ${row.diff >= 0 ? '+' : ''}${row.diff.toFixed(3)} |`);
  writeResult(`fixed-cost-pgbench${protocol === 'simple' ? '-unprepared' : ''}${flags.label ? `-${flags.label}` : ''}`, { seconds: PGBENCH, protocol, loadAverage: loadavg(), rows });
}

await main();
