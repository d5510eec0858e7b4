// Writes BENCHMARKS.md and docs/benchmarks.svg from bench/results/*.json (and the hand-written findings in
// bench/findings.md). `node bench/report.mjs [--quick]` re-renders without measuring again.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, log, parseFlags, readResult } from './lib.mjs';

const f2 = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(3));
const ratio = (x) => (x === undefined || Number.isNaN(x) ? 'n/a' : x >= 10 ? `${x.toFixed(0)}×` : `${x.toFixed(2)}×`);
const signed = (x) => (Number.isNaN(x) ? 'n/a' : `${x >= 0 ? '+' : '−'}${f2(Math.abs(x))}`);
const sec = (ms) => `${(ms / 1000).toFixed(1)} s`;

/** The issue's target: ratio ≤ 1.10, or for a sub-millisecond query at most 0.05 ms more. */
function verdict(m) {
  const b = m.stats.baseline.median;
  if (m.ratio <= 1.1) return 'yes';
  if (b < 1 && m.diffMs <= 0.05) return 'yes (≤ 0.05 ms)';
  return 'no';
}

function cell(stats) {
  return stats.n ? f2(stats.median) : `failed: ${stats.error}`;
}

/** Which server, how busy the machine was and when: every section says it (issue #9). */
function measuredOn(m) {
  return `Measured on ${m.postgres.split(' on ')[0]} (${m.nproc} CPUs, load average ${m.loadAverage.join(', ')} when the run started), Node ${m.node}, ${m.at}.`;
}

function machineTable(m, note) {
  return [
    '| | |', '|---|---|',
    `| CPUs (\`nproc\`) | ${m.nproc} × ${m.cpuModel} |`,
    `| Memory | ${m.memoryGiB} GiB |`,
    `| Load average when the run started (1, 5, 15 min) | ${m.loadAverage.join(', ')}${note ? ` ${note}` : ''} |`,
    `| OS | ${m.os} |`,
    `| Node.js | ${m.node} |`,
    `| PostgreSQL | ${m.postgres} |`,
    `| Server settings | ${Object.entries(m.postgresSettings).map(([k, v]) => `${k}=${v}`).join(', ')} (defaults of a fresh \`initdb\`; \`fast: false\`, so durable commits) |`,
    `| Measured at | ${m.at} |`,
  ].join('\n');
}

function section1(r) {
  const out = [];
  const s = r.scale;
  out.push(`## 1. Read and write overhead of the compiled policies`);
  out.push('');
  out.push(`Reproduce: \`${r.command}\` (the full scale of the issue: \`npm run bench -- --only read --tenants 100 --customers 100000 --orders 1000000\`). ${measuredOn(r.machine)}`);
  out.push('');
  out.push(`Data: demo_ecommerce schema, ${s.tenants} tenants, ${s.customers.toLocaleString('en')} customers, ${(s.tenants * s.productsPerTenant).toLocaleString('en')} products, ${s.orders.toLocaleString('en')} orders, ${s.items.toLocaleString('en')} order items (database ${r.load.databaseSize}); every query runs as tenant \`${r.tenant}\` (${r.ordersOfTenant.toLocaleString('en')} orders).`);
  out.push(`Loading took ${sec(r.load.totalMs)}: customers ${sec(r.load.customers)}, orders ${sec(r.load.orders)}, order items ${sec(r.load.order_items)}, secondary indexes ${sec(r.load.indexes)}, VACUUM ANALYZE ${sec(r.load.vacuumAnalyze)}, registry + \`tenantctl apply\` ${sec(r.load.registryAndApply)} (generate_series in SQL, foreign-key triggers off during the load, indexes built after it).`);
  out.push('');
  out.push(r.pairs
    ? `Each query is run by four password logins over TCP, in the same run, in pairs that alternate run by run: the compiled variant with the baseline, then the naive variant with the baseline, then the barrier variant with the baseline (the naive and barrier ratios are to the baseline of their own pair), after ${r.warmup} warm-up runs each; ${r.reps} timed repetitions (5 for a variant slower than 200 ms). Times are client round trips in milliseconds (postgres.js, one connection per login, extended query protocol in both modes), medians:`
    : `Each query is run by four password logins over TCP, alternating in the same run (in an order shuffled every repetition, so that each follows each other equally often), after ${r.warmup} warm-up runs each; ${r.reps} timed repetitions (5 for a variant slower than 200 ms). Times are client round trips in milliseconds (postgres.js, one connection per login, extended query protocol in both modes), medians:`);
  out.push('');
  out.push('- **baseline**: a `BYPASSRLS` login with the table owner\'s privileges running the hand-written query on the base tables with `WHERE org = \'…\'` (the owner itself reads nothing: row security is FORCEd);');
  out.push('- **compiled**: the tenant user (`bench_reader`, `bench_writer` for writes) through what `tenantctl apply` made: persona views + RLS policies with the templates as sub-selects (InitPlans);');
  out.push('- **naive**: the same policies with the function called per row (`tenantctl.attr(\'tenant\')` instead of `(SELECT tenantctl.attr(\'tenant\'))`), same views;');
  out.push('- **barrier**: the compiled policies under `security_barrier` views.');
  out.push('');
  if (r.cpuCheck) out.push(`How fast the machine was: the fixed CPU workload of section 2 (\`cpuCheck\` in \`bench/lib.mjs\`, lower is faster) took ${r.cpuCheck.before} ms before the queries and ${r.cpuCheck.after} ms after them. Absolute differences grow on a slower machine as the times do; compare runs together with this figure.`, '');
  out.push('Writes run in `BEGIN … ROLLBACK` and time the statement only (the commit\'s WAL flush is the same for everyone and is the noisiest part on a loaded machine). **Target** (issue #9): ratio ≤ 1.10, or for a query under 1 ms at most 0.05 ms more.');
  out.push('');
  for (const mode of ['prepared', 'unprepared']) {
    out.push(`### ${mode === 'prepared' ? 'Prepared statements (a named statement per connection: parsed, rewritten and planned once)' : 'Unprepared statements (the unnamed statement: parsed, rewritten and planned every time)'}`);
    out.push('');
    out.push('| Query | baseline ms | compiled ms | ratio | difference ms | target met | naive ms (ratio) | barrier ms (ratio) |');
    out.push('|---|---:|---:|---:|---:|---|---:|---:|');
    for (const q of r.results) {
      const m = q.modes[mode];
      out.push(`| ${q.title} | ${cell(m.stats.baseline)} | ${cell(m.stats.compiled)} | ${ratio(m.ratio)} | ${signed(m.diffMs)} | ${verdict(m)} | ${cell(m.stats.naive)} (${ratio(m.naiveRatio)}) | ${cell(m.stats.barrier)} (${ratio(m.barrierRatio)}) |`);
    }
    out.push('');
  }
  if (r.pgbench) {
    out.push(`### Cross-check by another client: one pgbench session`);
    out.push('');
    out.push(`After the runs above, one pgbench session (\`--pgbench ${r.pgbench.seconds}\`: ${r.pgbench.seconds} s per mode, one connection as \`bench_reader\`, which is granted the baseline login's role for this only) ran each read's baseline under \`SET ROLE\` and its compiled form, query after query, baseline first in one half of the script and compiled first in the other; mean latency per statement (\`pgbench -r\`, the two halves averaged), so both run in the same backend on the same caches:`);
    out.push('');
    out.push('| Query | prepared: baseline ms | compiled ms | difference ms | unprepared: baseline ms | compiled ms | difference ms |');
    out.push('|---|---:|---:|---:|---:|---:|---:|');
    for (const p of r.pgbench.prepared) {
      const u = r.pgbench.unprepared.find((x) => x.key === p.key);
      const title = r.results.find((q) => q.key === p.key)?.title ?? p.key;
      out.push(`| ${title} | ${f2(p.baseline)} | ${f2(p.compiled)} | ${signed(p.diff)} | ${f2(u.baseline)} | ${f2(u.compiled)} | ${signed(u.diff)} |`);
    }
    out.push('');
  }
  out.push('<details><summary>p10 / p90 of every cell, rows returned, the SQL</summary>');
  out.push('');
  out.push('| Query | mode | baseline p10–p90 | compiled p10–p90 | naive p10–p90 (n) | barrier p10–p90 (n) |');
  out.push('|---|---|---|---|---|---|');
  for (const q of r.results) {
    for (const mode of ['prepared', 'unprepared']) {
      const st = q.modes[mode].stats;
      const span = (x) => (x.n ? `${f2(x.p10)}–${f2(x.p90)}` : 'n/a');
      out.push(`| ${q.key} | ${mode} | ${span(st.baseline)} | ${span(st.compiled)} | ${span(st.naive)} (${st.naive.n}) | ${span(st.barrier)} (${st.barrier.n}) |`);
    }
  }
  out.push('');
  for (const q of r.results) {
    out.push(`- **${q.key}** rows ${JSON.stringify(q.rows ?? {})}  `);
    out.push(`  tenant: \`${q.tenantSql}\`  `);
    out.push(`  baseline: \`${q.baselineSql}\``);
  }
  out.push('');
  out.push('</details>');
  out.push('');
  out.push('### EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) of each query');
  out.push('');
  for (const q of r.results) {
    out.push(`<details><summary>${q.title}</summary>`);
    out.push('');
    for (const v of ['baseline', 'compiled', 'naive', 'barrier']) {
      out.push(`${v}:`);
      out.push('```');
      out.push(q.explain[v]);
      out.push('```');
    }
    out.push('</details>');
    out.push('');
  }
  out.push('<details><summary>How the naive and barrier variants were made (generated from the catalog\'s rendering of the compiled objects)</summary>');
  out.push('');
  out.push('```sql');
  out.push(...r.variants.naivePolicies.map((p) => p + ';'));
  out.push(...r.variants.barrierViews.slice(0, 2).map((p) => p + ';'));
  out.push('-- ... one security_barrier view per governed table');
  out.push('```');
  out.push('</details>');
  out.push('');
  return out.join('\n');
}

function section2(r) {
  const out = [];
  out.push('## 2. The tool at scale');
  out.push('');
  out.push(`Reproduce: \`${r.command}\`.${r.machine ? ` ${measuredOn(r.machine)}` : ''}`);
  out.push('');
  const big = r.scenarios[r.scenarios.length - 1];
  out.push(`A generated schema (every table: id, org, name, email, secret, amount, created_at and an (org, created_at) index), ${big.users.toLocaleString('en')} users in ${big.tenants} tenants (one in ten readwrite, one in three in a group role), a row filter \`org = {user.tenant}\` on every table, an email mask on ${big.masked} tables and a deny of \`secret\` for the group role on ${big.denied} others. Every time is a \`tenantctl\` CLI run (a fresh Node process: start-up included, ${sec(big.cliStartup)} for \`tenantctl --version\` in this run); plans are the median of repeated runs. "Statements" counts every statement the CLI sent (server log, \`log_statement = all\` for the operator).`);
  out.push('');
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const timed = (runs) => (runs ? `${sec(med(runs.map((x) => x.ms)))} (${runs[0].statements})` : 'not measured');
  if (big.noopPlanFull) {
    out.push('| Tables | policies | personas | RLS policies made | validate | cold apply (statements) | no-op plan (statements) | no-op plan `--full` | the two, catalog statistics current | one-line change plan | one policy altered by hand: plan / `--full` | second apply |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of r.scenarios) {
      out.push(`| ${s.tables} | ${s.policies} | ${s.personas} | ${s.rlsPolicies} | ${sec(s.validate)} | ${timed([s.coldApply])} | ${timed(s.noopPlan)} | ${timed(s.noopPlanFull)} | ${sec(med(s.noopPlanAnalyzed.map((x) => x.ms)))} / ${sec(med(s.noopPlanAnalyzedFull.map((x) => x.ms)))} | ${timed(s.changePlan)} | ${sec(med(s.driftPlan.map((x) => x.ms)))} / ${sec(med(s.driftPlanFull.map((x) => x.ms)))} | ${s.secondApply.output} |`);
    }
    out.push('');
    out.push('"No-op plan": `tenantctl plan FILE` as run by default, right after the cold apply: the apply recorded the catalog as converged (`tenantctl.converged`: the fingerprint of every catalog statement\'s result, see README), the plan finds it unchanged and answers `No changes.` from it (every run checked for its note). Its statements are the fingerprint\'s, on two connections. "`--full`": the same plan comparing every object, as every plan did before the eighth session. Both alternate, run by run. "One policy altered by hand": the drift plan, which checks the record, misses, and compares every object; against `--full`, that shows what a stale record costs.');
  } else {
    out.push('| Tables | policies | personas | RLS policies made | validate | cold apply (statements) | no-op plan right after it (statements) | no-op plan, catalog statistics current | one-line change plan (statements) | second apply |');
    out.push('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|');
    for (const s of r.scenarios) {
      out.push(`| ${s.tables} | ${s.policies} | ${s.personas} | ${s.rlsPolicies} | ${sec(s.validate)} | ${timed([s.coldApply])} | ${timed(s.noopPlan)} | ${s.noopPlanAnalyzed ? sec(med(s.noopPlanAnalyzed.map((x) => x.ms))) : 'not measured'} | ${timed(s.changePlan)} | ${s.secondApply.output} |`);
    }
  }
  out.push('');
  out.push('"Catalog statistics current": the same no-op plan after a database-wide `ANALYZE` (what autovacuum does some time after a large apply); right after the cold apply the planner still has the statistics of the empty catalog for the catalog queries.');
  const checks = r.scenarios.filter((s) => s.cpuCheck);
  if (checks.length > 0) {
    out.push('');
    out.push(`How fast the machine was while the plans ran: a fixed CPU workload in a fresh Node process (\`cpuCheck\` in \`bench/lib.mjs\`: 200,000 small objects, a JSON round trip, a sort; lower is faster) took ${checks.map((s) => `${s.cpuCheck.before} ms before and ${s.cpuCheck.after} ms after the ${s.tables}-table plans`).join(', ')}. This 2-core VM changes speed by half within an hour; compare plan times of different runs only together with this figure.`);
  }
  out.push('');
  out.push('Targets (issue #9): no-op plan under 1 s, cold apply under 20 s on this 2-core machine; the number of catalog queries must not grow with the number of tables.');
  out.push('');
  out.push('<details><summary>The one-line change plan (first lines)</summary>');
  out.push('');
  out.push('```');
  out.push((big.changePlan[0].output ?? '').trim());
  out.push('```');
  out.push('</details>');
  out.push('');
  return out.join('\n');
}

/** Section 3: online provisioning under load (bench/online-provisioning.mjs). */
export function section3(r) {
  const out = [];
  const st = r.settings;
  const ms = (x) => (x === null || x === undefined ? 'n/a' : f2(x));
  out.push('## 3. Online provisioning under load');
  out.push('');
  out.push(`Reproduce: \`${r.command}\`. ${measuredOn(r.machine)}`);
  out.push('');
  out.push(`Data: demo_ecommerce schema, ${st.scale.tenants} tenants, ${st.scale.customers.toLocaleString('en')} customers, ${st.scale.orders.toLocaleString('en')} orders, ${st.scale.items.toLocaleString('en')} order items (database ${st.databaseSize}). **Load:** ${st.clients} clients, each a password login over TCP as its own tenant user (${st.readwriteClients} readwrite, ${st.clients - st.readwriteClients} read), running in a loop with a ${st.thinkMs} ms pause: ${st.operations.read.join(', ')} (read users) plus ${st.operations.readwrite.filter((o) => !st.operations.read.includes(o)).join(', ')} (readwrite users), through their persona views; every statement's round trip and every error with its SQLSTATE is recorded. Phases, one after the other while the load runs: **baseline** ${st.baselineS} s; **tenants** \`tenantctl tenant create\` × ${st.newTenants} (${st.tenantConcurrency ?? 1} CLI processes at a time); **users** one \`tenantctl apply\` adding ${st.newUsers.toLocaleString('en')} users in those tenants (one in five readwrite); **policy** one \`tenantctl apply\` changing a mask and a row filter on tables the clients read (the SSN mask becomes \`[RESTRICTED]\`: the persona views of customers are replaced; the child tables' filter becomes a correlated \`EXISTS\`: their RLS policies are replaced)${st.extraUsers ? `; **users+policy** one \`tenantctl apply\` adding ${st.extraUsers} more users and undoing that change (what a deploy doing both at once runs)` : ''}; **after** ${st.afterS} s.`);
  out.push('');
  out.push('| Phase | seconds | statements (per s) | client errors | p50 ms | p99 ms | max ms | clients waiting on a lock (most at once; monitor polls with any) |');
  out.push('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const p of r.phases) {
    out.push(`| ${p.name} | ${p.seconds} | ${p.statements.toLocaleString('en')} (${p.perSecond}) | ${p.errors} | ${ms(p.p50)} | ${ms(p.p99)} | ${ms(p.max)} | ${p.clientsWaitingOnLocks.maxAtOnce}; ${p.clientsWaitingOnLocks.pollsWithWaiters} of ${p.clientsWaitingOnLocks.polls} |`);
  }
  out.push('');
  const errors = r.phases.flatMap((p) => Object.entries(p.errorsBySqlstate).map(([code, e]) => `${p.name}: ${e.count} × SQLSTATE ${code} (${e.message})`));
  out.push(`**Client errors** (target: zero): ${errors.length === 0 ? 'none' : errors.join('; ')}.`);
  out.push('');
  out.push('| Phase | command | time | result |');
  out.push('|---|---|---:|---|');
  for (const c of r.commands) out.push(`| ${c.phase} | \`${c.command}\` | ${sec(c.totalMs)}${c.p50Ms !== undefined ? ` (median ${sec(c.p50Ms)} each)` : ''} | ${c.output ?? ''} |`);
  out.push('');
  out.push(`A plan of the last file afterwards: ${r.noopPlanAfter}`);
  out.push('');
  const res = r.locks.resolution;
  out.push(`**Locks held by tenantctl on governed tables and persona views.** A monitor connection polled \`pg_locks\` joined with \`pg_stat_activity\` every ${res.pollEveryMs} ms (${res.polls.toLocaleString('en')} polls; the time between polls was ${f2(res.medianGapMs)} ms at the median, ${f2(res.p99GapMs)} ms at p99, ${f2(res.maxGapMs)} ms at most on this machine), keeping each granted lock of a \`tenantctl\` backend from its first to its last sighting: a lock is held at least that long and at most about one poll gap longer. Longest per phase, relation and mode (AccessShareLocks, which block only ACCESS EXCLUSIVE requests, grouped in one line per phase):`);
  out.push('');
  out.push('| Phase | relation | mode | held (first to last sighting) |');
  out.push('|---|---|---|---:|');
  const strong = r.locks.longest.filter((h) => h.mode !== 'AccessShareLock');
  for (const h of strong) out.push(`| ${h.phase} | ${h.relation} (${h.kind}) | ${h.mode} | ${f2(h.seenMs)} ms |`);
  const share = new Map();
  for (const h of r.locks.longest.filter((x) => x.mode === 'AccessShareLock')) {
    const cur = share.get(h.phase) ?? { n: 0, max: 0, relation: '' };
    cur.n++;
    if (h.seenMs > cur.max) Object.assign(cur, { max: h.seenMs, relation: h.relation });
    share.set(h.phase, cur);
  }
  for (const [phase, s] of share) out.push(`| ${phase} | ${s.n} relations, longest ${s.relation} | AccessShareLock | ${f2(s.max)} ms |`);
  if (r.locks.longest.length === 0) out.push('| – | none seen | | |');
  out.push('');
  const waits = r.clientLockWaits.filter((w) => w.app === 'bench-load');
  out.push(`**Clients waiting on a lock** (same monitor, any relation): ${waits.length === 0 ? 'none seen.' : `${waits.length} waits seen, the longest ${waits.slice(0, 5).map((w) => `${f2(w.seenMs)} ms for ${w.mode} on ${w.relation} (${w.phase})`).join(', ')}.`} The server's own \`log_lock_waits\` (deadlock_timeout 100 ms) logged ${r.lockWaitLog.filter((l) => /still waiting/.test(l)).length} waits of 100 ms or more.`);
  out.push('');
  for (const [name, t] of Object.entries(r.transcripts)) {
    const kinds = Object.entries(t.byKind).map(([k, n]) => `${k} ${n}`).join(', ');
    const lock = t.firstTableLockingStatement;
    out.push(`<details><summary>The ${name} apply's transaction from the server log (log_statement = all): ${t.statements} statements in ${sec(t.transactionMs)}${lock ? `; first statement that takes an ACCESS EXCLUSIVE lock at ${f2(lock.atMs)} ms, ${f2(lock.untilCommitMs)} ms before COMMIT` : '; no statement taking an ACCESS EXCLUSIVE lock'}</summary>`);
    out.push('');
    out.push(`By kind: ${kinds}.`);
    out.push('');
    out.push('```');
    for (const s of t.order) out.push(`${String(s.atMs).padStart(6)} ms  ${s.sql.replace(/\s+/g, ' ')}`);
    out.push('```');
    out.push('</details>');
    out.push('');
  }
  return out.join('\n');
}

/** Horizontal grouped bars on a log axis: median ms per query and variant (prepared statements). */
export function chart(r, mode = 'prepared') {
  const variants = [
    ['baseline', 'hand-written WHERE org = … (no RLS)', '#4c78a8'],
    ['compiled', 'tenantctl (views + RLS, InitPlan)', '#54a24b'],
    ['barrier', 'security_barrier views', '#f58518'],
    ['naive', 'naive RLS (function per row)', '#e45756'],
  ];
  const qs = r.results.filter((q) => !['attr', 'visible'].includes(q.key));
  const left = 300, right = 90, top = 70, barH = 9, gap = 2, groupGap = 14, width = 980;
  const groupH = variants.length * (barH + gap) + groupGap;
  const height = top + qs.length * groupH + 60;
  const minV = 0.1, maxV = 10_000;
  const plotW = width - left - right;
  const x = (v) => left + (Math.log10(Math.max(minV, v)) - Math.log10(minV)) / (Math.log10(maxV) - Math.log10(minV)) * plotW;
  const esc = (s) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const el = [];
  el.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`);
  el.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  el.push(`<text x="${left}" y="20" font-size="14" font-weight="bold">Median latency per query, ${r.scale.orders.toLocaleString('en')} orders / ${r.scale.tenants} tenants (ms, log scale, ${mode} statements)</text>`);
  el.push(`<text x="${left}" y="36" fill="#555">${esc(`${r.machine.nproc} CPUs, ${r.machine.postgres.split(' on ')[0]}, Node ${r.machine.node}; ratio = compiled / hand-written`)}</text>`);
  variants.forEach(([, label, color], i) => {
    const lx = left + i * 170;
    el.push(`<rect x="${lx}" y="46" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="55">${esc(label.length > 26 ? label.slice(0, 25) + '…' : label)}</text>`);
  });
  for (const t of [0.1, 1, 10, 100, 1000, 10000]) {
    el.push(`<line x1="${x(t)}" y1="${top - 6}" x2="${x(t)}" y2="${height - 45}" stroke="#ddd"/>`);
    el.push(`<text x="${x(t)}" y="${height - 32}" text-anchor="middle" fill="#555">${t >= 1 ? t.toLocaleString('en') : t}</text>`);
  }
  el.push(`<text x="${left + plotW / 2}" y="${height - 14}" text-anchor="middle" fill="#555">milliseconds per statement (client round trip, median)</text>`);
  qs.forEach((q, gi) => {
    const y0 = top + gi * groupH;
    const m = q.modes[mode];
    el.push(`<text x="${left - 8}" y="${y0 + 14}" text-anchor="end" font-weight="bold">${esc(q.title.length > 46 ? q.title.slice(0, 45) + '…' : q.title)}</text>`);
    el.push(`<text x="${left - 8}" y="${y0 + 28}" text-anchor="end" fill="#555">ratio ${ratio(m.ratio)}, ${signed(m.diffMs)} ms</text>`);
    variants.forEach(([v, , color], i) => {
      const st = m.stats[v];
      const y = y0 + i * (barH + gap);
      if (!st.n) {
        el.push(`<text x="${left + 4}" y="${y + barH - 1}" fill="${color}">not measured (${esc(String(st.error).slice(0, 60))})</text>`);
        return;
      }
      el.push(`<rect x="${left}" y="${y}" width="${Math.max(1, x(st.median) - left)}" height="${barH}" fill="${color}"/>`);
      el.push(`<text x="${x(st.median) + 4}" y="${y + barH - 1}" fill="#333">${f2(st.median)}</text>`);
    });
  });
  el.push('</svg>');
  return el.join('\n') + '\n';
}

export function main() {
  const flags = parseFlags();
  // --quick renders the quick results; otherwise the --full ones where they exist, else the default scale.
  const pick = (name) => (flags.quick === true ? readResult(`${name}-quick`) : readResult(`${name}-full`) ?? readResult(name));
  const read = pick('read-overhead');
  const tool = pick('tool-scale');
  const online = pick('online-provisioning');
  const findings = existsSync(join(ROOT, 'bench', 'findings.md')) ? readFileSync(join(ROOT, 'bench', 'findings.md'), 'utf8').trim() : '';
  const m = (read ?? tool ?? online)?.machine;
  const doc = [];
  doc.push('# Benchmarks');
  doc.push('');
  doc.push(`Generated by \`npm run bench${flags.quick === true ? ':quick' : ''}\` (\`bench/\`; \`node bench/report.mjs\` re-renders this file and \`docs/benchmarks.svg\` from \`bench/results/*.json\`). Every figure was measured on a throwaway PostgreSQL server started by the benchmark on this machine, never a shared one. Medians of repeated runs; ratios taken side by side, alternating, in the same run. No test asserts any timing.`);
  doc.push('');
  if (m) {
    doc.push('## Machine');
    doc.push('');
    // Said only when the machine was busy as the run started: a load average of a CPU or more on 2 cores.
    const busy = m.loadAverage[0] >= 1;
    doc.push(machineTable(m, busy ? '— **the machine was busy when the run started** (other jobs on this 2-core machine), so absolute times are inflated and noisy; the side-by-side ratios are the figures to read.' : '— a quiet machine.'));
    doc.push('');
  }
  doc.push('![Median latency per query](docs/benchmarks.svg)');
  doc.push('');
  if (findings) doc.push(findings, '');
  if (read) doc.push(section1(read));
  if (tool) doc.push(section2(tool));
  if (online) doc.push(section3(online));
  else {
    doc.push('## 3. Online provisioning under load');
    doc.push('');
    doc.push('Not measured yet (issue #9, section 3): `npm run bench -- --only online`.');
    doc.push('');
  }
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), doc.join('\n'));
  log('wrote BENCHMARKS.md');
  if (read) {
    mkdirSync(join(ROOT, 'docs'), { recursive: true });
    writeFileSync(join(ROOT, 'docs', 'benchmarks.svg'), chart(read));
    log('wrote docs/benchmarks.svg');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
