// Section 3 of BENCHMARKS.md: online provisioning under load (issue #9, section 3).
//
// A demo_ecommerce-shaped database (bench/ecommerce.mjs, modest scale) and N load clients: password logins
// over TCP as tenant users (every other one readwrite), each running a mix of reads and writes in a loop with
// a short pause, recording the latency of every statement and every error with its SQLSTATE. Phases:
//   baseline   the load alone
//   tenants    `tenantctl tenant create` run 200 times, 4 processes at a time (the CLI, node start-up included)
//   users      `tenantctl apply` of the file plus 1,000 users in those tenants
//   policy     `tenantctl apply` of a policy change on tables the clients read (a mask and a row filter)
//   users+policy  one `tenantctl apply` adding 250 more users and undoing that change (a deploy doing both)
//   after      the load alone again
// Meanwhile a monitor connection (superuser) polls pg_locks joined with pg_stat_activity every few
// milliseconds: every lock that tenantctl's backends (application_name 'tenantctl …', e.g. 'tenantctl apply') hold on a governed table
// or on a persona view, with first and last sighting, and every client waiting on a lock. The server logs the
// operator's statements (log_statement = all, log_line_prefix with milliseconds) and lock waits
// (log_lock_waits, deadlock_timeout), from which the statement order of each apply is taken.
//
//   node bench/online-provisioning.mjs [--quick] [--clients 8] [--baseline 30] [--after 15] [--tenants 200]
//     [--tenant-concurrency 4] [--users 1000] [--extra-users 250] [--think 10] [--poll 5] [--orders 100000] [--customers 20000] [--data-tenants 20]
//     [--save-log FILE]  (the server log of the measured phases, for reading the statement order by hand)
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import YAML from 'yaml';
import { scramVerifier } from '../dist/pg/scram.js';
import { CLI, PASSWORD, ROOT, benchCluster, log, login, machine, num, parseFlags, percentile, urlFor, writeResult } from './lib.mjs';
import { OPERATOR, READER, WRITER, createEcommerce, scaleFrom, slug } from './ecommerce.mjs';

const flags = parseFlags();
const quick = flags.quick === true;
const CLIENTS = num(flags, 'clients', quick ? 4 : 8);
const BASELINE_S = num(flags, 'baseline', quick ? 10 : 30);
const AFTER_S = num(flags, 'after', quick ? 5 : 15);
const NEW_TENANTS = num(flags, 'tenants', quick ? 50 : 200);
const NEW_USERS = num(flags, 'users', quick ? 250 : 1000);
const EXTRA_USERS = num(flags, 'extra-users', quick ? 50 : 250);
const TENANT_CONCURRENCY = num(flags, 'tenant-concurrency', 4);
const THINK_MS = num(flags, 'think', 10);
const POLL_MS = num(flags, 'poll', 5);
const STATEMENT_TIMEOUT_MS = 60_000;
const SUFFIX = quick ? '-quick' : '';
const scale = scaleFrom(
  { tenants: flags['data-tenants'], customers: flags.customers, orders: flags.orders },
  quick ? { tenants: 10, customers: 5_000, orders: 20_000 } : { tenants: 20, customers: 20_000, orders: 100_000 },
);
const DATABASE = 'online';
const PERSONA_SCHEMAS = "n.nspname LIKE 'tenantctl\\_%' AND n.nspname <> 'tenantctl'";
const command = `npm run bench${quick ? ':quick' : ''} -- --only online${['clients', 'baseline', 'after', 'tenants', 'tenant-concurrency', 'users', 'extra-users', 'think', 'poll', 'orders', 'customers', 'data-tenants'].filter((k) => flags[k] !== undefined).map((k) => ` --${k} ${flags[k]}`).join('')}`;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const newSlug = (i) => `n${String(i + 1).padStart(3, '0')}`;

/** The CLI without blocking the event loop (the clients and the monitor run in this process). */
function cliAsync(args, env) {
  return new Promise((resolve, reject) => {
    const t0 = now();
    const child = spawn(process.execPath, [CLI, ...args], { env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const r = { code, stdout, stderr, ms: now() - t0 };
      if (code !== 0) reject(new Error(`tenantctl ${args.join(' ')} exited ${code}\n${stdout}\n${stderr}`));
      else resolve(r);
    });
  });
}

// -- policy files --------------------------------------------------------------------------------------------

function baseDoc(loadUsers) {
  const doc = YAML.parse(readFileSync(join(ROOT, 'fixtures', 'demo_ecommerce', 'policies.yaml'), 'utf8'));
  doc.users = [
    { name: READER, password: { env: 'BENCH_PASSWORD' }, tenant: slug(0), access: 'read' },
    { name: WRITER, password: { env: 'BENCH_PASSWORD' }, tenant: slug(0), access: 'readwrite' },
    ...loadUsers.map((u) => ({ name: u.name, password: { env: 'BENCH_PASSWORD' }, tenant: u.tenant, access: u.access })),
  ];
  return doc;
}

function withUsers(doc, verifier, count = NEW_USERS, from = 0) {
  const users = Array.from({ length: count }, (_, j) => j + from).map((i) => ({
    name: `online_u${String(i + 1).padStart(4, '0')}`,
    password: { scram: verifier },
    tenant: newSlug(i % NEW_TENANTS),
    access: i % 5 === 0 ? 'readwrite' : 'read',
  }));
  return { ...doc, users: [...doc.users, ...users] };
}

/** The policy change: the SSN mask becomes the full one (persona views of customers are replaced) and the
 * child tables' row filter is rewritten as a correlated EXISTS (their RLS policies are replaced). */
function withPolicyChange(doc) {
  const next = structuredClone(doc);
  const a = next.assignments.find((x) => x.policy === 'mask-ssn-partial');
  if (!a) throw new Error('the fixture has no mask-ssn-partial assignment');
  a.policy = 'mask-ssn-full';
  const children = next.policies.find((p) => p.name === 'tenant-isolation-children');
  if (!children) throw new Error('the fixture has no tenant-isolation-children policy');
  children.filter = 'EXISTS (SELECT 1 FROM orders o WHERE o.id = order_id AND o.org = {user.tenant})';
  return next;
}

// -- load clients --------------------------------------------------------------------------------------------

const READS = [
  ['point', (c) => c.sql`SELECT id, org, customer_id, status, total_amount, created_at FROM orders WHERE id = ${c.pick(c.orders)}`],
  ['latest20', (c) => c.sql`SELECT id, status, total_amount, created_at FROM orders ORDER BY created_at DESC LIMIT 20`],
  ['masked20', (c) => c.sql`SELECT id, first_name, last_name, ssn FROM customers ORDER BY created_at DESC LIMIT 20`],
  ['items', (c) => c.sql`SELECT id, product_id, quantity, unit_price FROM order_items WHERE order_id = ${c.pick(c.orders)}`],
];
const WRITES = [
  ['insert', (c) => c.sql`INSERT INTO orders (org, customer_id, status, total_amount) VALUES (${c.tenant}, ${c.pick(c.customers)}, 'pending', 12.5)`],
  ['update', (c) => c.sql`UPDATE orders SET status = 'processing', updated_at = now() WHERE id = ${c.pick(c.orders)}`],
];

async function startClient(cluster, user, state) {
  const sql = login(urlFor(cluster, DATABASE, user.name, PASSWORD), { connection: { application_name: 'bench-load', statement_timeout: STATEMENT_TIMEOUT_MS } });
  const orders = (await sql`SELECT id FROM orders ORDER BY created_at DESC LIMIT 500`).map((r) => r.id);
  const customers = (await sql`SELECT id FROM customers LIMIT 200`).map((r) => r.id);
  if (orders.length === 0 || customers.length === 0) throw new Error(`${user.name} sees no orders or customers`);
  const [{ pid }] = await sql`SELECT pg_backend_pid() AS pid`;
  let seed = user.index * 7919 + 1;
  const c = { sql, tenant: user.tenant, orders, customers, pick: (xs) => xs[(seed = (seed * 48271) % 2147483647) % xs.length] };
  const ops = user.access === 'readwrite' ? [...READS, ...WRITES] : READS;
  const loop = (async () => {
    for (let i = 0; !state.stop; i++) {
      const [name, run] = ops[i % ops.length];
      const t0 = now();
      try {
        await run(c);
        state.samples.push({ t: t0, ms: now() - t0, op: name, client: user.index });
      } catch (e) {
        state.samples.push({ t: t0, ms: now() - t0, op: name, client: user.index, error: e.code ?? 'client', message: String(e.message).slice(0, 200) });
      }
      if (THINK_MS > 0) await sleep(THINK_MS);
    }
    await sql.end();
  })();
  return { pid, loop };
}

// -- lock monitor --------------------------------------------------------------------------------------------

async function startMonitor(cluster, state) {
  const sql = login(cluster.url(DATABASE), { connection: { application_name: 'bench-monitor' } });
  const [{ dboid }] = await sql`SELECT oid::int AS dboid FROM pg_database WHERE datname = current_database()`;
  const governed = await sql`SELECT c.oid::int AS oid, c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relrowsecurity AND c.relforcerowsecurity`;
  const names = new Map(governed.map((g) => [g.oid, { name: `public.${g.name}`, kind: 'table' }]));
  const refreshViews = async () => {
    const views = await sql.unsafe(`SELECT c.oid::int AS oid, n.nspname || '.' || c.relname AS name FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'v' AND ${PERSONA_SCHEMAS}`);
    for (const v of views) if (!names.has(v.oid)) names.set(v.oid, { name: v.name, kind: 'persona view' });
  };
  await refreshViews();
  const held = new Map(); // pid|oid|mode -> { first, last, polls, phase }
  const waits = new Map(); // client pid|oid|mode -> { first, last, phase }
  const gaps = [];
  const waitingPerPoll = []; // { t, n, phase }
  let polls = 0;
  let last;
  const loop = (async () => {
    while (!state.stopMonitor) {
      const t = now();
      if (last !== undefined) gaps.push(t - last);
      last = t;
      polls++;
      const rows = await sql`SELECT l.pid, l.relation::int AS oid, l.mode, l.granted, a.application_name AS app
        FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
        WHERE l.locktype = 'relation' AND l.database = ${dboid} AND l.pid <> pg_backend_pid()
          AND (l.relation = ANY(${[...names.keys()]}::oid[]) OR NOT l.granted)`;
      const seen = now();
      let waiting = 0;
      for (const r of rows) {
        if (r.app.startsWith('tenantctl') && r.granted && names.has(r.oid)) {
          const key = `${r.pid}|${r.oid}|${r.mode}`;
          const h = held.get(key);
          if (h) {
            h.last = seen;
            h.polls++;
          } else held.set(key, { pid: r.pid, oid: r.oid, mode: r.mode, first: t, last: seen, polls: 1, phase: state.phase });
        } else if (!r.granted) {
          if (r.app === 'bench-load') waiting++;
          const key = `${r.pid}|${r.oid}|${r.mode}|${r.app}`;
          const w = waits.get(key);
          if (w) w.last = seen;
          else waits.set(key, { pid: r.pid, oid: r.oid, mode: r.mode, app: r.app, first: t, last: seen, phase: state.phase });
        }
      }
      waitingPerPoll.push({ t, n: waiting, phase: state.phase });
      if (state.refreshViews) {
        state.refreshViews = false;
        await refreshViews();
      }
      if (POLL_MS > 0) await sleep(POLL_MS);
    }
    await sql.end();
  })();
  return { loop, held, waits, gaps, waitingPerPoll, names, polls: () => polls };
}

// -- server log ----------------------------------------------------------------------------------------------

/** `2026-01-02 03:04:05.678 UTC [pid] app LOG:  statement: ...` lines (continuations folded in). */
function parseLog(text) {
  const entries = [];
  for (const line of text.split('\n')) {
    const m = line.match(/^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} \w+) \[(\d+)\] <([^>]*)> (LOG|ERROR|STATEMENT|DETAIL|WARNING|FATAL|HINT|CONTEXT):\s+(.*)$/);
    if (m) entries.push({ t: Date.parse(m[1].replace(' ', 'T').replace(/ (\w+)$/, (_, z) => (z === 'UTC' ? 'Z' : ''))), pid: Number(m[2]), app: m[3], level: m[4], text: m[5] });
    else if (entries.length > 0 && /^\s/.test(line)) entries[entries.length - 1].text += ' ' + line.trim();
  }
  return entries;
}

const statementOf = (e) => e.text.replace(/^(statement|execute [^:]*):\s*/, '');
const isStatement = (e) => e.level === 'LOG' && /^(statement|execute [^:]*):/.test(e.text);

/** What kind of statement, for counting: the leading keywords. */
function kindOf(s) {
  const m = s.trim().match(/^(CREATE|DROP|ALTER|GRANT|REVOKE|COMMENT ON|INSERT INTO|DELETE FROM|UPDATE|SELECT|SET LOCAL|SET|BEGIN|COMMIT|ROLLBACK|WITH)\s*(\w+)?/i);
  if (!m) return s.slice(0, 20);
  const verb = m[1].toUpperCase();
  if (['CREATE', 'DROP', 'ALTER'].includes(verb)) return `${verb} ${(m[2] ?? '').toUpperCase()}`;
  return verb;
}

/** The statements of one tenantctl transaction (the backend that took the apply's advisory lock). */
function applyTranscript(entries, from, to) {
  const own = entries.filter((e) => e.app.startsWith('tenantctl') && e.t >= from - 5 && e.t <= to + 5);
  const lockers = new Set(own.filter((e) => isStatement(e) && /pg_try_advisory_xact_lock/.test(e.text)).map((e) => e.pid));
  const stmts = own.filter((e) => lockers.has(e.pid) && isStatement(e)).map((e) => ({ t: e.t, pid: e.pid, sql: statementOf(e) }));
  const byKind = {};
  for (const s of stmts) byKind[kindOf(s.sql)] = (byKind[kindOf(s.sql)] ?? 0) + 1;
  return { statements: stmts, byKind };
}

// -- statistics ----------------------------------------------------------------------------------------------

function stats(samples) {
  const ok = samples.filter((s) => !s.error).map((s) => s.ms);
  return {
    n: samples.length,
    errors: samples.length - ok.length,
    p50: percentile(ok, 50),
    p99: percentile(ok, 99),
    max: ok.length ? maxOf(ok) : NaN,
  };
}

/** Math.max(...xs) overflows the stack for large arrays. */
const maxOf = (xs, empty = NaN) => (xs.length === 0 ? empty : xs.reduce((a, b) => (b > a ? b : a), -Infinity));
const round = (x, d = 2) => (Number.isFinite(x) ? Math.round(x * 10 ** d) / 10 ** d : null);

// -- main ----------------------------------------------------------------------------------------------------

export async function main() {
  log(`online provisioning: ${CLIENTS} clients, ${NEW_TENANTS} tenants, ${NEW_USERS} users; data ${scale.tenants} tenants, ${scale.orders} orders`);
  const cluster = await benchCluster();
  const clients = [];
  const state = { stop: false, stopMonitor: false, phase: 'setup', samples: [], refreshViews: false };
  let monitor;
  try {
    const env0 = await machine(cluster);
    const logFile = join(dirname(cluster.dataDir), 'server.log');
    const su = login(cluster.url());
    await su.unsafe(`ALTER SYSTEM SET log_line_prefix = '%m [%p] <%a> '`);
    await su.unsafe(`ALTER SYSTEM SET log_lock_waits = on`);
    await su.unsafe(`ALTER SYSTEM SET deadlock_timeout = '100ms'`);
    await su`SELECT pg_reload_conf()`;
    await su.end();

    const load = await createEcommerce(cluster, DATABASE, scale, slug(0));
    const operatorUrl = load.operatorUrl;
    const env = { DATABASE_URL: operatorUrl, BENCH_PASSWORD: PASSWORD };
    const dir = mkdtempSync(join(tmpdir(), 'tenantctl-bench-online-'));
    const loadUsers = Array.from({ length: CLIENTS }, (_, i) => ({ index: i, name: `load_c${i + 1}`, tenant: slug(i % scale.tenants), access: i % 2 === 1 ? 'readwrite' : 'read' }));
    const base = baseDoc(loadUsers);
    const files = { base: join(dir, 'base.yaml'), users: join(dir, 'users.yaml'), policy: join(dir, 'policy.yaml'), combined: join(dir, 'combined.yaml') };
    const verifier = scramVerifier(PASSWORD);
    const usersDoc = withUsers(base, verifier);
    writeFileSync(files.base, YAML.stringify(base));
    writeFileSync(files.users, YAML.stringify(usersDoc));
    writeFileSync(files.policy, YAML.stringify(withPolicyChange(usersDoc)));
    // users+policy: more users in the same new tenants and the policy change undone, in one apply.
    writeFileSync(files.combined, YAML.stringify(withUsers(usersDoc, verifier, EXTRA_USERS, NEW_USERS)));
    await cliAsync(['apply', files.base, '--yes'], env);
    const su2 = login(cluster.url());
    await su2.unsafe(`ALTER ROLE ${OPERATOR.user} SET log_statement = 'all'`);
    await su2.end();

    log(`starting ${CLIENTS} clients and the lock monitor (poll every ${POLL_MS} ms)`);
    for (const u of loadUsers) clients.push(await startClient(cluster, u, state));
    monitor = await startMonitor(cluster, state);
    const logStart = statSync(logFile).size;
    const phases = [];
    const commands = [];
    const phase = async (name, fn) => {
      state.phase = name;
      // Persona views replaced by the previous phase have new oids: track those too.
      state.refreshViews = true;
      const start = now();
      log(`phase ${name}`);
      const detail = await fn();
      const end = now();
      phases.push({ name, start, end, ...(detail ?? {}) });
      log(`phase ${name}: ${((end - start) / 1000).toFixed(1)} s`);
    };
    await phase('baseline', () => sleep(BASELINE_S * 1000));
    await phase('tenants', async () => {
      const times = [];
      const t0 = now();
      let next = 0;
      const worker = async () => {
        while (next < NEW_TENANTS) {
          const i = next++;
          const r = await cliAsync(['tenant', 'create', newSlug(i), '--name', `New tenant ${i + 1}`, '--status', 'active'], env);
          times.push(r.ms);
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, TENANT_CONCURRENCY) }, worker));
      commands.push({ phase: 'tenants', command: `tenantctl tenant create nNNN --name ... --status active (× ${NEW_TENANTS}, ${TENANT_CONCURRENCY} at a time)`, totalMs: round(now() - t0), p50Ms: round(percentile(times, 50)), maxMs: round(maxOf(times)) });
    });
    await phase('users', async () => {
      const r = await cliAsync(['apply', files.users, '--yes'], env);
      commands.push({ phase: 'users', command: `tenantctl apply users.yaml --yes (+${NEW_USERS} users in the new tenants)`, totalMs: round(r.ms), output: r.stdout.trim().split('\n').slice(-1)[0] });
    });
    await phase('policy', async () => {
      const r = await cliAsync(['apply', files.policy, '--yes'], env);
      commands.push({ phase: 'policy', command: 'tenantctl apply policy.yaml --yes (mask-ssn-partial → mask-ssn-full; child row filter → EXISTS)', totalMs: round(r.ms), output: r.stdout.trim().split('\n').slice(-1)[0], plan: r.stdout.slice(0, 4000) });
    });
    if (EXTRA_USERS > 0) {
      await phase('users+policy', async () => {
        const r = await cliAsync(['apply', files.combined, '--yes'], env);
        commands.push({ phase: 'users+policy', command: `tenantctl apply combined.yaml --yes (+${EXTRA_USERS} more users and the policy change undone, in one apply)`, totalMs: round(r.ms), output: r.stdout.trim().split('\n').slice(-1)[0] });
      });
    }
    await phase('after', () => sleep(AFTER_S * 1000));
    state.stop = true;
    await Promise.all(clients.map((c) => c.loop));
    state.stopMonitor = true;
    await monitor.loop;

    // A no-op plan proves the applies converged.
    const noop = await cliAsync(['plan', EXTRA_USERS > 0 ? files.combined : files.policy], env);
    const logText = readFileSync(logFile, 'utf8').slice(logStart);
    if (typeof flags['save-log'] === 'string') writeFileSync(flags['save-log'], logText);
    const entries = parseLog(logText);

    // Latency per phase and per operation.
    const inPhase = (p) => state.samples.filter((s) => s.t >= p.start && s.t < p.end);
    const phaseResults = phases.map((p) => {
      const samples = inPhase(p);
      const byOp = {};
      for (const op of [...READS, ...WRITES].map(([n]) => n)) {
        const st = stats(samples.filter((s) => s.op === op));
        if (st.n) byOp[op] = { n: st.n, errors: st.errors, p50: round(st.p50), p99: round(st.p99), max: round(st.max) };
      }
      const st = stats(samples);
      const errors = {};
      for (const s of samples.filter((x) => x.error)) (errors[s.error] ??= { count: 0, message: s.message }).count++;
      const waitingPolls = monitor.waitingPerPoll.filter((w) => w.t >= p.start && w.t < p.end);
      return {
        name: p.name,
        seconds: round((p.end - p.start) / 1000, 1),
        statements: st.n,
        perSecond: round(st.n / ((p.end - p.start) / 1000), 1),
        errors: st.errors,
        errorsBySqlstate: errors,
        p50: round(st.p50),
        p99: round(st.p99),
        max: round(st.max),
        byOp,
        clientsWaitingOnLocks: { maxAtOnce: maxOf(waitingPolls.map((w) => w.n), 0), pollsWithWaiters: waitingPolls.filter((w) => w.n > 0).length, polls: waitingPolls.length },
      };
    });

    // Locks tenantctl held on governed tables and persona views.
    const gaps = monitor.gaps;
    const resolution = { pollEveryMs: POLL_MS, polls: monitor.polls(), medianGapMs: round(percentile(gaps, 50)), p99GapMs: round(percentile(gaps, 99)), maxGapMs: round(maxOf(gaps)) };
    const held = [...monitor.held.values()].map((h) => ({
      phase: h.phase,
      relation: monitor.names.get(h.oid)?.name ?? `oid ${h.oid}`,
      kind: monitor.names.get(h.oid)?.kind ?? 'relation',
      mode: h.mode,
      pid: h.pid,
      seenMs: round(h.last - h.first),
      polls: h.polls,
      firstSeen: new Date(h.first).toISOString(),
      lastSeen: new Date(h.last).toISOString(),
    }));
    held.sort((a, b) => b.seenMs - a.seenMs);
    const longest = {};
    for (const h of held) {
      const key = `${h.phase}|${h.relation}|${h.mode}`;
      if (!longest[key] || longest[key].seenMs < h.seenMs) longest[key] = h;
    }
    const waits = [...monitor.waits.values()].map((w) => ({
      phase: w.phase,
      relation: monitor.names.get(w.oid)?.name ?? `oid ${w.oid}`,
      mode: w.mode,
      app: w.app,
      pid: w.pid,
      seenMs: round(w.last - w.first),
      firstSeen: new Date(w.first).toISOString(),
    }));
    waits.sort((a, b) => b.seenMs - a.seenMs);

    // The statement order of the two applies, from the server log.
    const transcripts = {};
    for (const p of phases.filter((x) => ['users', 'policy', 'users+policy'].includes(x.name))) {
      const tr = applyTranscript(entries, p.start, p.end);
      const first = tr.statements[0]?.t ?? p.start;
      // apply sends its statements in batches (`SAVEPOINT tenantctl_batch ; stmt ; stmt ...`): look inside them.
      const lockingIdx = tr.statements.findIndex((s) => /(^|;\s*)(DROP POLICY|CREATE POLICY|ALTER POLICY|ALTER TABLE|DROP VIEW)\b/i.test(s.sql.trim()));
      const commit = tr.statements.findLast((s) => /^COMMIT/i.test(s.sql.trim()));
      transcripts[p.name] = {
        statements: tr.statements.length,
        byKind: tr.byKind,
        transactionMs: round((commit?.t ?? p.end) - first),
        firstTableLockingStatement: lockingIdx >= 0 ? { index: lockingIdx, atMs: round(tr.statements[lockingIdx].t - first), untilCommitMs: round((commit?.t ?? p.end) - tr.statements[lockingIdx].t) } : null,
        // Every statement, shortened (the users apply: the first and last 40).
        order: (tr.statements.length > 120 ? [...tr.statements.slice(0, 40), { t: first, sql: `... ${tr.statements.length - 80} more ...` }, ...tr.statements.slice(-40)] : tr.statements).map((s) => ({ atMs: round(s.t - first, 0), sql: s.sql.replace(/PASSWORD '[^']*'/g, "PASSWORD '…'").slice(0, 180) })),
      };
    }
    const lockWaitLog = entries.filter((e) => /still waiting for|acquired \w+Lock/.test(e.text)).map((e) => `${new Date(e.t).toISOString()} [${e.pid}] ${e.app} ${e.text.slice(0, 300)}`);

    const result = {
      command,
      machine: env0,
      settings: { clients: CLIENTS, readwriteClients: loadUsers.filter((u) => u.access === 'readwrite').length, thinkMs: THINK_MS, baselineS: BASELINE_S, afterS: AFTER_S, newTenants: NEW_TENANTS, tenantConcurrency: TENANT_CONCURRENCY, newUsers: NEW_USERS, extraUsers: EXTRA_USERS, statementTimeoutMs: STATEMENT_TIMEOUT_MS, scale, databaseSize: load.size, operations: { read: READS.map(([n]) => n), readwrite: [...READS, ...WRITES].map(([n]) => n) } },
      phases: phaseResults,
      commands,
      noopPlanAfter: noop.stdout.trim().split('\n').slice(-1)[0],
      locks: { resolution, longest: Object.values(longest).sort((a, b) => b.seenMs - a.seenMs), held: held.slice(0, 200), heldCount: held.length },
      clientLockWaits: waits.slice(0, 100),
      lockWaitLog: lockWaitLog.slice(0, 100),
      transcripts,
    };
    writeResult(`online-provisioning${SUFFIX}`, result);
    for (const p of phaseResults) log(`${p.name}: ${p.statements} statements, ${p.errors} errors, p50 ${p.p50} ms, p99 ${p.p99} ms, max ${p.max} ms, waiting max ${p.clientsWaitingOnLocks.maxAtOnce}`);
    for (const h of result.locks.longest.slice(0, 10)) log(`lock ${h.phase} ${h.relation} ${h.mode}: ${h.seenMs} ms`);
  } finally {
    state.stop = true;
    state.stopMonitor = true;
    await Promise.allSettled([...clients.map((c) => c.loop), monitor?.loop].filter(Boolean));
    await cluster.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
