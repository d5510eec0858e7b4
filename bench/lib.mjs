// Shared helpers of the benchmarks (bench/*.mjs): flags, a throwaway PostgreSQL, logins, the CLI, statistics.
// Plain ESM run by node after `npm run build`: everything tenantctl-specific comes from ../dist.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import postgres from 'postgres';
import { startCluster } from '../dist/pg/cluster.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const RESULTS = join(ROOT, 'bench', 'results');
export const CLI = join(ROOT, 'bin', 'tenantctl');
export const PASSWORD = 'Bench-1234!';

/** --name value / --name=value / --flag; numbers stay strings until the caller converts them. */
export function parseFlags(argv = process.argv.slice(2)) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const eq = a.indexOf('=');
    if (eq > 0) flags[a.slice(2, eq)] = a.slice(eq + 1);
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) flags[a.slice(2)] = argv[++i];
    else flags[a.slice(2)] = true;
  }
  return flags;
}

export function num(flags, name, fallback) {
  const v = flags[name];
  if (v === undefined || v === true) return fallback;
  const n = Number(String(v).replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'));
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name}: not a number: ${v}`);
  return n;
}

export function log(line) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
}

/** A throwaway server of this machine's PostgreSQL (never the test server), durable settings. */
export async function benchCluster() {
  const cluster = await startCluster({ provider: 'local', fast: false, log });
  return cluster;
}

export function urlFor(cluster, database, user, password) {
  const u = new URL(cluster.url(database));
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** A password login over TCP with one connection (postgres.js prepares statements by default). */
export function login(url, extra = {}) {
  return postgres(url, { max: 1, onnotice: () => {}, idle_timeout: 0, ...extra });
}

/** Run the built CLI; returns { code, stdout, stderr, ms }. */
export function cli(args, env, options = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1', ...env },
    input: options.input,
    maxBuffer: 256 * 1024 * 1024,
  });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (options.check !== false && r.status !== 0 && !(options.okCodes ?? []).includes(r.status)) {
    throw new Error(`tenantctl ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

export function ms(t0) {
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

// A fixed single-threaded CPU workload in a fresh Node process (allocate 200,000 small objects, JSON round
// trip, sort: the kind of work a CLI run does), its own time in ms without Node's start-up. The 2-core VM the
// figures come from changes speed by half within an hour; the tool's times are to be read against this, taken
// right before and after them. Lower is faster.
const CPU_CHECK = `const t = process.hrtime.bigint(); const a = [];
for (let i = 0; i < 200000; i++) a.push({ k: 'k' + ((i * 7919) % 200000), v: i, s: 'x'.repeat(i % 50) });
const b = JSON.parse(JSON.stringify(a)); b.sort((x, y) => (x.k < y.k ? -1 : x.k > y.k ? 1 : 0));
console.log(Number(process.hrtime.bigint() - t) / 1e6);`;

/**
 * One pgbench session over TCP as `user`, running `statements` in turn for `seconds` (`-M prepared` or `simple`),
 * and each one's mean latency in ms (`pgbench -r`): one backend and one connection for all of them, so their
 * differences are the server's own. The first command of each pass also pays for the pass's start (about
 * 0.005 ms), so an unmeasured one goes first.
 */
export function pgbenchMeans(cluster, { database, user, password, statements, protocol, seconds }) {
  const dir = mkdtempSync(join(os.tmpdir(), 'tenantctl-pgbench-'));
  try {
    const script = join(dir, 'statements.sql');
    writeFileSync(script, ['SELECT 0', ...statements].map((s) => `${s.replace(/\s+/g, ' ')};\n`).join(''));
    const url = new URL(cluster.url(database));
    const bin = cluster.binDir && existsSync(join(cluster.binDir, 'pgbench')) ? join(cluster.binDir, 'pgbench') : 'pgbench';
    const r = spawnSync(bin, ['-n', '-M', protocol, '-c', '1', '-T', String(seconds), '-r', '-f', script], {
      encoding: 'utf8',
      env: { ...process.env, PGHOST: url.hostname, PGPORT: url.port, PGDATABASE: database, PGUSER: user, PGPASSWORD: password },
    });
    if (r.status !== 0) throw new Error(`pgbench exited ${r.status}: ${r.stderr}`);
    const lines = r.stdout.slice(r.stdout.indexOf('statement latencies')).split('\n').slice(1);
    // One line per command: mean, failures, the command's text (long ones cut short).
    const means = lines.map((l) => /^\s*([\d.]+)\s+\d+\s+\S/.exec(l)).filter(Boolean).map((m) => Number(m[1])).slice(1);
    if (means.length !== statements.length) throw new Error(`pgbench reported ${means.length} statements, expected ${statements.length}:\n${r.stdout}`);
    return means;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Median of `runs` CPU_CHECK runs, in ms. */
export function cpuCheck(runs = 3) {
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(Number(execFileSync(process.execPath, ['-e', CPU_CHECK], { encoding: 'utf8' }).trim()));
  return Math.round(median(xs));
}

/** The machine and software a figure was measured on. */
export async function machine(cluster) {
  const sql = login(cluster.url());
  try {
    const [{ version }] = await sql`SELECT version()`;
    const settings = await sql`SELECT name, setting, unit FROM pg_settings
      WHERE name IN ('shared_buffers', 'work_mem', 'effective_cache_size', 'fsync', 'synchronous_commit', 'jit', 'max_connections')
      ORDER BY name`;
    return {
      cpus: os.cpus().length,
      nproc: execFileSync('nproc', { encoding: 'utf8' }).trim(),
      cpuModel: os.cpus()[0]?.model ?? 'unknown',
      memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
      loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
      os: `${os.type()} ${os.release()}`,
      node: process.version,
      postgres: version,
      postgresSettings: Object.fromEntries(settings.map((s) => [s.name, s.unit ? `${s.setting} ${s.unit}` : s.setting])),
      at: new Date().toISOString(),
    };
  } finally {
    await sql.end();
  }
}

export function writeResult(name, data) {
  mkdirSync(RESULTS, { recursive: true });
  const file = join(RESULTS, `${name}.json`);
  writeFileSync(file, JSON.stringify(data, null, 2) + '\n');
  log(`wrote ${file}`);
  return file;
}

export function readResult(name) {
  try {
    return JSON.parse(readFileSync(join(RESULTS, `${name}.json`), 'utf8'));
  } catch {
    return undefined;
  }
}
