// `tenantctl demo up / status / down` as a newcomer runs them: its own server in the background, then real
// password logins as alice, bob and charlie over TCP.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, portInUse, serverRunning } from '../../src/pg/cluster.js';
import { readDemoState, type DemoState } from '../../src/demo/demo.js';
import { loadMigrations, packagedMigrationsDir } from '../../src/migrate/source.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { DEMO_POLICIES } from '../helpers/demo.js';

/** A fresh temp directory the postgres system user can traverse (mkdtemp makes it private). */
function reachableTempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tenantctl-demo-test-'));
  chmodSync(d, 0o755);
  return d;
}

let dir: string;
let port: number;
let up: CliResult;
let state: DemoState;
const sessions: postgres.Sql[] = [];
const url = (user: string, password: string): string => `postgresql://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/demo_ecommerce`;
function login(user: string, password = 'Demo1234!'): postgres.Sql {
  const s = postgres(url(user, password), { max: 1, onnotice: () => {} });
  sessions.push(s);
  return s;
}

beforeAll(async () => {
  dir = join(reachableTempDir(), 'demo');
  port = await freePort();
  up = await runCli(['demo', 'up', '--port', String(port), '--dir', dir], { env: { CI: 'true' } });
  state = readDemoState(dir) as DemoState;
}, 120_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  await runCli(['demo', 'down', '--dir', dir]);
});

describe('tenantctl demo up', () => {
  it('starts, prints ready-to-paste psql lines and the Quick-verification queries, then returns', () => {
    expect(up.code).toBe(0);
    expect(up.stdout).toContain(`psql 'postgresql://alice:Demo1234!@127.0.0.1:${port}/demo_ecommerce'`);
    expect(up.stdout).toContain(`psql 'postgresql://bob:Demo1234!@127.0.0.1:${port}/demo_ecommerce'`);
    expect(up.stdout).toContain(`psql 'postgresql://charlie:Demo1234!@127.0.0.1:${port}/demo_ecommerce'`);
    for (const q of ['SELECT DISTINCT org FROM orders;', 'SELECT first_name, ssn FROM customers LIMIT 3;', 'SELECT credit_card FROM customers;']) {
      expect(up.stdout).toContain(q);
    }
    // Plain progress lines without a terminal (no spinner frames in CI logs).
    expect(up.stderr).toContain('applying policies.yaml');
    expect(up.stderr).not.toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/);
    expect(serverRunning(state.binDir, state.dataDir)).toBe(true);
  });

  it('alice, bob and charlie get the seed Quick-verification results over TCP with their passwords', async () => {
    for (const [user, tenant, first] of [['alice', 'acme', 'Alice'], ['bob', 'globex', 'Olivia'], ['charlie', 'stark', 'Natalie']] as const) {
      const s = login(user);
      expect(await s`SELECT DISTINCT org FROM orders`).toEqual([{ org: tenant }]);
      const rows = await s`SELECT first_name, ssn FROM customers LIMIT 3`;
      expect(rows[0]?.['first_name']).toBe(first);
      for (const r of rows) expect(r['ssn']).toMatch(/^\*\*\*-\*\*-\d{4}$/);
      await expect(s`SELECT credit_card FROM customers`).rejects.toMatchObject({ message: 'column "credit_card" does not exist' });
    }
  });

  it('the README first screen: the same query, three tenants, three answers', async () => {
    const expected = {
      alice: [['acme', 'Alice', '***-**-1234'], ['acme', 'Brian', '***-**-4405'], ['acme', 'Carmen', '***-**-0907']],
      bob: [['globex', 'Olivia', '***-**-4637'], ['globex', 'Marcus', '***-**-9752'], ['globex', 'Priya', '***-**-5553']],
      charlie: [['stark', 'Natalie', '***-**-0023'], ['stark', 'Samuel', '***-**-1835'], ['stark', 'Ava', '***-**-0170']],
    };
    for (const [user, rows] of Object.entries(expected)) {
      const got = await login(user)`SELECT org, first_name, ssn FROM customers LIMIT 3`;
      expect(got.map((r) => [r['org'], r['first_name'], r['ssn']]), user).toEqual(rows);
    }
  });

  it('a wrong password is rejected', async () => {
    await expect(login('alice', 'wrong')`SELECT 1`).rejects.toMatchObject({ code: '28P01' });
  });

  it('admin/changeme runs tenantctl against the demo and reads no tenant data', async () => {
    const plan = await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: { DATABASE_URL: url('admin', 'changeme'), DEMO_PASSWORD: 'Demo1234!' } });
    expect(plan).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    const status = await runCli(['migrate', 'version'], { env: { DATABASE_URL: url('admin', 'changeme') } });
    const packaged = loadMigrations(packagedMigrationsDir());
    expect(status.stdout).toBe(`${packaged[packaged.length - 1]?.version}\n`);
    const admin = login('admin', 'changeme');
    expect(await admin`SELECT count(*)::int AS n FROM public.customers`).toEqual([{ n: 0 }]);
    expect(await admin`SELECT rolsuper FROM pg_roles WHERE rolname = current_user`).toEqual([{ rolsuper: false }]);
  });

  it('status says where it runs; a second up reports it and changes nothing', async () => {
    const status = await runCli(['demo', 'status', '--dir', dir]);
    expect(status.code).toBe(0);
    expect(status.stdout).toContain(`at 127.0.0.1:${port}, database demo_ecommerce, data in ${dir}`);
    const again = await runCli(['demo', 'up', '--port', String(port), '--dir', dir]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('The demo is already running; nothing was changed.');
    expect(readDemoState(dir)?.startedAt).toBe(state.startedAt);
  });

  it('a busy port is a clear error naming the port and --port, and leaves nothing behind', async () => {
    const other = join(reachableTempDir(), 'demo');
    const r = await runCli(['demo', 'up', '--port', String(port), '--dir', other]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: port ${port} on 127.0.0.1 is already in use; choose another one with --port`);
    expect(existsSync(other)).toBe(false);
  });
});

describe('tenantctl demo up in a directory the server cannot reach', () => {
  it('as root, a --dir under a private directory is a clear error and leaves nothing behind', async (ctx) => {
    if (process.getuid?.() !== 0) ctx.skip();
    const privateDir = mkdtempSync(join(tmpdir(), 'tenantctl-private-')); // 0700, owned by root
    const target = join(privateDir, 'demo');
    const r = await runCli(['demo', 'up', '--port', String(await freePort()), '--dir', target]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error: the postgres system user cannot write to ${target} (a parent directory is private); choose a directory it can reach, e.g. under ${tmpdir()}`);
    expect(existsSync(target)).toBe(false);
  });
});

describe('tenantctl demo down', () => {
  it('stops the server and removes its directory; status then exits 1', async () => {
    const down = await runCli(['demo', 'down', '--dir', dir]);
    expect(down).toMatchObject({ code: 0, stdout: `Demo stopped; ${dir} removed.\n` });
    expect(existsSync(dir)).toBe(false);
    expect(await portInUse(port)).toBe(false);
    expect(spawnSync('pgrep', ['-f', state.dataDir]).status).toBe(1); // no process names the data directory
    const status = await runCli(['demo', 'status', '--dir', dir]);
    expect(status).toMatchObject({ code: 1, stdout: `No demo is running (${dir}).\n` });
    expect(await runCli(['demo', 'down', '--dir', dir])).toMatchObject({ code: 0, stdout: `No demo in ${dir}; nothing to do.\n` });
  });
});
