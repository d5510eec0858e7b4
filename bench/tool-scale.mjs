// Section 2 of BENCHMARKS.md: the tool itself at scale. A generated schema of N tables (default 500) and a
// policy file with 1,000 users in 100 tenants, a row filter on every table, masks on 100 tables and denies
// on 100 more: times of `validate`, a cold `apply`, a no-op `plan` (answered from the converged record, and with
// --full), the plan of a one-line change and of one policy altered by hand, run
// as the CLI (node start-up included), and the number of statements each sends (from the server's
// log_statement log), at two schema sizes to show whether it grows with the number of tables.
//
//   node bench/tool-scale.mjs [--full | --quick] [--tables 500] [--small-tables 50] [--users 1000] [--tenants 100] [--quick]
import { createHash } from 'node:crypto';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { scramVerifier } from '../dist/pg/scram.js';
import { benchCluster, cli, cpuCheck, log, login, machine, num, parseFlags, urlFor, writeResult, PASSWORD, ROOT } from './lib.mjs';

// Imported by bench/tool-scale-env.mjs for its generators: flags are this script's only when it is the one run.
const flags = import.meta.url === `file://${process.argv[1]}` ? parseFlags() : {};
const quick = flags.quick === true;
const full = flags.full === true;
// --full is the scale of issue #9; compile time grows with users x tables (see BENCHMARKS.md), so the
// default is smaller to keep `npm run bench` near 10 minutes on 2 cores.
const TABLES = num(flags, 'tables', quick ? 100 : full ? 500 : 100);
const SMALL = num(flags, 'small-tables', quick ? 20 : full ? 50 : 20);
const USERS = num(flags, 'users', quick ? 200 : full ? 1000 : 500);
const TENANTS = num(flags, 'tenants', quick ? 20 : 100);
const PLAN_RUNS = num(flags, 'plan-runs', quick ? 2 : 3);
const SUFFIX = quick ? '-quick' : full ? '-full' : '';
/** What `plan` prints on stderr when the converged record answers (src/apply/converged.ts). */
const CONVERGED_NOTE = /^note: the catalog is as the apply of /m;
const command = `npm run bench${quick ? ':quick' : ''} -- --only tool${full ? ' --full' : ''}${['tables', 'small-tables', 'users', 'tenants'].filter((k) => flags[k] !== undefined).map((k) => ` --${k} ${flags[k]}`).join('')}`;

export function schemaSql(tables) {
  const out = [];
  for (let i = 1; i <= tables; i++) {
    const t = `t${String(i).padStart(4, '0')}`;
    out.push(`CREATE TABLE ${t} (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      org text NOT NULL,
      name text NOT NULL,
      email text,
      secret text,
      amount numeric(10,2) NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now());
    CREATE INDEX ${t}_org_created_at_idx ON ${t} (org, created_at);`);
  }
  return out.join('\n');
}

/** The policy file. One user in ten is readwrite and one in three is in role restricted: four personas. */
export function policyDoc(tables, users, tenants, prefix, verifier) {
  const names = Array.from({ length: tables }, (_, i) => `t${String(i + 1).padStart(4, '0')}`);
  // Masks on 100 tables and denies on 100 others (a fifth of each for smaller schemas).
  const affected = Math.min(100, Math.floor(tables / 5));
  const masked = names.slice(0, affected);
  const denied = names.slice(affected, 2 * affected);
  const doc = {
    version: 1,
    mode: 'policy_required',
    schemas: ['public'],
    roles: [{ name: `${prefix}restricted` }],
    users: Array.from({ length: users }, (_, i) => ({
      name: `${prefix}u${String(i + 1).padStart(4, '0')}`,
      password: { scram: verifier },
      tenant: `t${String((i % tenants) + 1).padStart(3, '0')}`,
      access: i % 10 === 0 ? 'readwrite' : 'read',
      ...(i % 3 === 0 ? { roles: [`${prefix}restricted`] } : {}),
    })),
    policies: [],
    assignments: [],
  };
  // Row filters on every table: ten policies of (up to) fifty tables each.
  for (let k = 0; k * 50 < tables; k++) {
    doc.policies.push({ name: `tenant-isolation-${k}`, type: 'row_filter', tables: names.slice(k * 50, (k + 1) * 50), filter: 'org = {user.tenant}' });
    doc.assignments.push({ policy: `tenant-isolation-${k}`, to: 'all' });
  }
  for (const t of masked) {
    doc.policies.push({ name: `mask-${t}`, type: 'column_mask', table: t, column: 'email', mask: "'***@' || split_part(email, '@', 2)" });
    doc.assignments.push({ policy: `mask-${t}`, to: 'all' });
  }
  for (const t of denied) {
    doc.policies.push({ name: `deny-${t}`, type: 'column_deny', table: t, columns: ['secret'] });
    doc.assignments.push({ policy: `deny-${t}`, to: { role: `${prefix}restricted` } });
  }
  return doc;
}

/** Statements the server logged (log_statement = all for the operator) while fn ran. */
async function countStatements(logFile, fn) {
  const before = statSync(logFile).size;
  const result = await fn();
  await new Promise((r) => setTimeout(r, 300)); // the logging collector is not involved, but be safe
  const text = readFileSync(logFile, 'utf8').slice(before);
  const statements = text.split('\n').filter((l) => /LOG:\s+(statement|execute [^:]*):/.test(l));
  return { result, statements: statements.length };
}

async function scenario(cluster, logFile, tables, verifier) {
  const database = `tool${tables}`;
  const prefix = `s${tables}_`;
  const operator = { user: `${prefix}admin`, password: 'bench-admin-pw' };
  const su = login(cluster.url());
  await su.unsafe(`CREATE ROLE ${operator.user} LOGIN CREATEROLE PASSWORD '${operator.password}'`);
  await su.unsafe(`CREATE DATABASE ${database} OWNER ${operator.user}`);
  await su.end();
  const url = urlFor(cluster, database, operator.user, operator.password);
  const op = login(url);
  await op.unsafe(schemaSql(tables));
  await op.end();
  const env = { DATABASE_URL: url, BENCH_PASSWORD: PASSWORD };
  cli(['migrate', 'up'], env);
  const reg = login(url);
  await reg.unsafe(`INSERT INTO tenant_registry.tenants (slug, name, status)
    SELECT 't' || lpad(i::text, 3, '0'), 'Tenant ' || i, 'active' FROM generate_series(1, ${TENANTS}) i`);
  await reg.end();
  const dir = mkdtempSync(join(tmpdir(), 'tenantctl-bench-tool-'));
  const file = join(dir, 'policies.yaml');
  const doc = policyDoc(tables, USERS, TENANTS, prefix, verifier);
  const text = YAML.stringify(doc);
  writeFileSync(file, text);
  const suLog = login(cluster.url());
  await suLog.unsafe(`ALTER ROLE ${operator.user} SET log_statement = 'all'`);
  await suLog.end();

  const r = { tables, users: USERS, tenants: TENANTS, policies: doc.policies.length, masked: doc.policies.filter((p) => p.type === 'column_mask').length, denied: doc.policies.filter((p) => p.type === 'column_deny').length, fileBytes: Buffer.byteLength(text), fileLines: text.split('\n').length };
  log(`${tables} tables: validate`);
  r.validate = cli(['validate', file], env).ms;
  log(`${tables} tables: cold apply`);
  const apply = await countStatements(logFile, async () => cli(['apply', file, '--yes'], env));
  r.coldApply = { ms: apply.result.ms, statements: apply.statements };
  const personas = login(cluster.url(database));
  const [p] = await personas`SELECT count(*)::int AS n FROM pg_namespace WHERE nspname LIKE 'tenantctl\\_%' AND nspname <> 'tenantctl'`;
  const [rls] = await personas`SELECT count(*)::int AS n FROM pg_policies WHERE schemaname = 'public'`;
  await personas.end();
  r.personas = p.n;
  r.rlsPolicies = rls.n;
  r.cpuCheck = { before: cpuCheck() };
  // Each no-op plan twice, alternating: as `plan` runs by default (the converged record that the cold apply
  // wrote answers: the note says so, or this throws) and with --full (every object compared).
  const noopPlans = async () => {
    const record = [];
    const full = [];
    for (let k = 0; k < PLAN_RUNS; k++) {
      for (const [flags, into] of [[[], record], [['--full'], full]]) {
        const noop = await countStatements(logFile, async () => cli(['plan', file, ...flags], env));
        if (!/No changes/.test(noop.result.stdout)) throw new Error(`no-op plan printed:\n${noop.result.stdout.slice(0, 2000)}`);
        if (CONVERGED_NOTE.test(noop.result.stderr) !== (flags.length === 0)) throw new Error(`plan ${flags.join(' ')}: ${noop.result.stderr || 'no note'}`);
        into.push({ ms: noop.result.ms, statements: noop.statements });
      }
    }
    return { record, full };
  };
  ({ record: r.noopPlan, full: r.noopPlanFull } = await noopPlans());
  // The plans above run right after the cold apply, on the catalog statistics of before it (13,000 new
  // objects): the planner's estimates for the catalog queries are off until autovacuum analyzes the catalogs. A
  // database planned in CI was applied long before, so the no-op plan is measured again once they are analyzed
  // (a database-wide ANALYZE, as the superuser: the operator may not analyze system catalogs).
  const analyze = login(cluster.url(database));
  await analyze.unsafe('ANALYZE');
  await analyze.end();
  ({ record: r.noopPlanAnalyzed, full: r.noopPlanAnalyzedFull } = await noopPlans());
  r.cpuCheck.after = cpuCheck();
  // One line changed: the first mask's expression.
  const changed = text.replace(`'***@' || split_part(email, '@', 2)`, `'[hidden]'`);
  if (changed === text) throw new Error('the one-line change did not apply');
  const changedFile = join(dir, 'changed.yaml');
  writeFileSync(changedFile, changed);
  r.changePlan = [];
  for (let k = 0; k < PLAN_RUNS; k++) {
    const c = await countStatements(logFile, async () => cli(['plan', changedFile], env, { okCodes: [2] }));
    r.changePlan.push({ ms: c.result.ms, statements: c.statements, output: k === 0 ? c.result.stdout.slice(0, 3000) : undefined });
  }
  // A second apply of the same file changes nothing.
  const again = cli(['apply', file, '--yes'], env);
  // The steps too, when there are any: a change here means the plans above missed something, or the tree
  // changed under the run (see treeChanged).
  const lines = again.stdout.trim().split('\n');
  r.secondApply = { ms: again.ms, output: lines.slice(-1)[0], ...(lines.length > 1 ? { steps: lines.filter((l) => /^\S/.test(l) && !/^(Plan|Apply complete):/.test(l)).slice(0, 20) } : {}) };
  // Drift: one policy altered by hand. The converged record is checked first and does not answer (its
  // fingerprint differs), then every object is compared: what that costs over --full.
  const owner = login(url);
  const [pol] = await owner`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'public.t0001'::regclass LIMIT 1`;
  await owner.unsafe(`ALTER POLICY "${pol.name}" ON public.t0001 USING (true)`);
  await owner.end();
  r.driftPlan = [];
  r.driftPlanFull = [];
  for (let k = 0; k < PLAN_RUNS; k++) {
    for (const [flags, into] of [[[], r.driftPlan], [['--full'], r.driftPlanFull]]) {
      const d = await countStatements(logFile, async () => cli(['plan', file, '--detailed-exitcode', ...flags], env, { okCodes: [2] }));
      if (d.result.code !== 2 || CONVERGED_NOTE.test(d.result.stderr)) throw new Error(`drift plan ${flags.join(' ')} exited ${d.result.code}: ${d.result.stderr}`);
      into.push({ ms: d.result.ms, statements: d.statements });
    }
  }
  // Node start-up alone, for reference: every CLI time above includes it.
  r.cliStartup = cli(['--version'], {}).ms;
  return r;
}

/**
 * A hash of what the CLI runs (dist/ and sql/runtime.sql). Each CLI run reads them afresh, so a build or a merge
 * in this tree during the run changes the results half-way: a changed runtime.sql makes a later plan show
 * "update schema tenantctl (runtime)", one change nobody made (seen once, in a --full run that overlapped
 * commit e52b64d).
 */
function treeHash() {
  const h = createHash('sha256');
  const walk = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name.endsWith('.js')) h.update(path).update(readFileSync(path));
    }
  };
  walk(join(ROOT, 'dist'));
  h.update(readFileSync(join(ROOT, 'sql', 'runtime.sql')));
  return h.digest('hex');
}

export async function main() {
  log(`tool at scale: ${TABLES} and ${SMALL} tables, ${USERS} users, ${TENANTS} tenants`);
  const treeBefore = treeHash();
  const cluster = await benchCluster();
  try {
    const env = await machine(cluster);
    const logFile = join(dirname(cluster.dataDir), 'server.log');
    const verifier = scramVerifier(PASSWORD);
    const scenarios = [];
    for (const tables of [SMALL, TABLES]) scenarios.push(await scenario(cluster, logFile, tables, verifier));
    const treeChanged = treeHash() !== treeBefore;
    if (treeChanged) log('warning: dist/ or sql/runtime.sql changed during the run; the figures mix two builds');
    writeResult(`tool-scale${SUFFIX}`, { command, machine: env, scenarios, ...(treeChanged ? { treeChanged } : {}) });
  } finally {
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
