// `tenantctl test`: the demo's tests.yaml passes in both modes with the same answers, failures exit 3 with
// expected vs actual, json and junit output, apps with context, writes rolled back, and every error path.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runCli } from '../helpers/cli.js';
import { DEMO_PASSWORD, FIXTURE, policyFile } from '../helpers/demo.js';
import { type SecurityDb, securityDatabase } from '../security/fixture.js';

const TESTS = `${FIXTURE}tests.yaml`;
let sec: SecurityDb;
let policies = '';
beforeAll(async () => {
  sec = await securityDatabase('ptest');
  policies = policyFile(sec.policiesText);
});
afterAll(async () => {
  await sec?.cleanup();
});

const fast = (...args: string[]) => runCli(['test', ...args], { env: { DATABASE_URL: sec.db.url } });
const viaLogin = (...args: string[]) => runCli(['test', ...args, '--login', '--policies', policies], { env: { DATABASE_URL: sec.db.operatorUrl, DEMO_PASSWORD } });

function extraTests(): string {
  return stringify({
    version: 1,
    tests: [
      { name: 'app without context sees nothing', as: { app: sec.app }, sql: 'SELECT count(*) AS n FROM customers', rows: [{ n: 0 }] },
      { name: 'app with tenant acme (attribute)', as: { app: sec.app }, context: { tenant: 'acme' }, sql: 'SELECT DISTINCT org FROM orders', rows: [{ org: 'acme' }] },
      { name: 'app with the setting named', as: { app: sec.app }, context: { 'app.current_tenant': 'globex' }, sql: 'SELECT DISTINCT org FROM orders', rows: [{ org: 'globex' }] },
      { name: 'app with a bad tenant_id', as: { app: sec.app }, context: { tenant_id: 'nope' }, sql: 'SELECT count(*) FROM orders', error: { sqlstate: '22P02' } },
      { name: 'readwrite delete is rolled back', as: { user: sec.rw }, sql: 'DELETE FROM support_tickets RETURNING id', row_count: 50 },
      { name: 'readwrite cannot move a row', as: sec.rw, sql: "UPDATE customers SET org = 'globex'", error: 'new row violates row-level security policy' },
      { name: 'session_user is the user', as: 'bob', sql: 'SELECT session_user::text AS s, current_schema() IS NOT NULL AS persona', rows: [{ s: 'bob', persona: true }] },
    ],
  });
}

describe('tenantctl test', () => {
  it('the demo tests.yaml passes in the fast mode (superuser) and in --login mode, with the same answers', async () => {
    const a = await fast(TESTS, '--format', 'json');
    const b = await viaLogin(TESTS, '--format', 'json');
    expect(a.stderr).toBe('');
    expect(b.stderr).toBe('');
    expect([a.code, b.code]).toEqual([0, 0]);
    const ja = JSON.parse(a.stdout) as { mode: string; passed: number; failed: number; results: unknown[] };
    const jb = JSON.parse(b.stdout) as typeof ja;
    expect([ja.mode, jb.mode]).toEqual(['fast', 'login']);
    expect(ja.failed).toBe(0);
    expect(ja.passed).toBe(27);
    expect(jb.results).toEqual(ja.results);
  });

  it('apps with context, readwrite users and identity give the same answers in both modes, and writes are rolled back', async () => {
    const file = policyFile(extraTests(), 'tests.yaml');
    const before = await sec.db.sql`SELECT count(*)::int AS n FROM public.support_tickets`;
    const a = await fast(file, '--format', 'json');
    const b = await viaLogin(file, '--format', 'json');
    expect(a.stderr + b.stderr).toBe('');
    expect(JSON.parse(a.stdout).failed).toBe(0);
    expect(JSON.parse(b.stdout).results).toEqual(JSON.parse(a.stdout).results);
    expect([a.code, b.code]).toEqual([0, 0]);
    expect(await sec.db.sql`SELECT count(*)::int AS n FROM public.support_tickets`).toEqual(before);
    expect(before).toEqual([{ n: 150 }]);
  });

  it('a failing assertion exits 3 and prints expected vs actual, one line per assertion', async () => {
    const file = policyFile(
      stringify({
        version: 1,
        tests: [
          { name: 'passes', as: 'alice', sql: 'SELECT DISTINCT org FROM orders', rows: [{ org: 'acme' }] },
          { name: 'wrong rows', as: 'alice', sql: 'SELECT DISTINCT org FROM orders', rows: [{ org: 'globex' }] },
          { name: 'expected an error', as: 'alice', sql: 'SELECT 1 AS x', error: { sqlstate: '42501' } },
          { name: 'unexpected error', as: 'alice', sql: 'SELECT credit_card FROM customers', row_count: 1 },
          { name: 'columns', as: 'alice', sql: 'SELECT * FROM customers LIMIT 1', columns: { present: ['credit_card'], absent: ['ssn'] } },
        ],
      }),
      'tests.yaml',
    );
    const r = await fast(file);
    expect(r.code).toBe(3);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        'ok   passes',
        'FAIL wrong rows',
        '     expected rows [{"org":"globex"}]',
        '     got rows [{"org":"acme"}]',
        'FAIL expected an error',
        '     expected an error 42501, but the statement returned 1 row(s)',
        'FAIL unexpected error',
        '     unexpected error 42703: column "credit_card" does not exist',
        'FAIL columns',
        '     expected column "credit_card", result has id, org, first_name, last_name, email, phone, ssn, created_at',
        '     expected no column "ssn", but the result has it',
        '5 assertions: 1 passed, 4 failed.',
        '',
      ].join('\n'),
    );
    const junit = await fast(file, '--format', 'junit');
    expect(junit.code).toBe(3);
    expect(junit.stdout).toContain('<testsuites name="tenantctl test" tests="5" failures="4">');
    expect(junit.stdout).toContain('<testcase classname="alice" name="passes"/>');
    expect(junit.stdout).toContain('<failure message="unexpected error 42703: column &quot;credit_card&quot; does not exist">');
    const login = await viaLogin(file);
    expect(login.code).toBe(3);
    expect(login.stdout).toBe(r.stdout);
  });

  it('errors exit 1 and run nothing: bad file, unknown role, fast mode without a superuser, missing password', async () => {
    const bad = policyFile('version: 1\ntests:\n  - as: alice\n    sql: SELECT 1\n', 'tests.yaml');
    expect(await fast(bad)).toMatchObject({ code: 1, stdout: '', stderr: `error: ${bad}: tests.0: an assertion needs an expectation: rows, row_count, no_rows, columns or error\n` });
    const ghost = policyFile(stringify({ version: 1, tests: [{ as: 'nobody_at_all', sql: 'SELECT 1', no_rows: true }] }), 'tests.yaml');
    expect(await fast(ghost)).toMatchObject({ code: 1, stdout: '', stderr: `error: ${ghost}: tests.0.as: role nobody_at_all does not exist in this cluster\n` });
    expect(await runCli(['test', TESTS], { env: { DATABASE_URL: sec.db.operatorUrl } })).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: the fast mode becomes each user with SET SESSION AUTHORIZATION, which needs a superuser connection; connect as a superuser or use --login\n',
    });
    expect(await runCli(['test', TESTS, '--login'], { env: { DATABASE_URL: sec.db.operatorUrl } })).toMatchObject({
      code: 1,
      stdout: '',
      stderr: 'error: no password for alice: pass --policies FILE (its password env variables) or --password-env VAR\n',
    });
    expect(await runCli(['test', TESTS, '--login', '--password-env', 'WRONG'], { env: { DATABASE_URL: sec.db.operatorUrl, WRONG: 'nope' } })).toMatchObject({ code: 1, stdout: '' });
    expect(await fast('/nonexistent/tests.yaml')).toMatchObject({ code: 1, stderr: 'error: cannot read /nonexistent/tests.yaml: ENOENT\n' });
    expect(await fast()).toMatchObject({ code: 1, stderr: 'error: no test file given: tenantctl test FILE...\n' });
  });

  it('--password-env logs every principal in with one password; --schema prints the JSON Schema', async () => {
    const r = await runCli(['test', TESTS, '--login', '--password-env', 'PW'], { env: { DATABASE_URL: sec.db.operatorUrl, PW: DEMO_PASSWORD } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/27 assertions: 27 passed, 0 failed\.\n$/);
    const schema = await runCli(['test', '--schema']);
    expect(schema.code).toBe(0);
    const json = JSON.parse(schema.stdout) as { title: string; required: string[] };
    expect(json.title).toBe('tenantctl policy tests');
    expect(json.required).toEqual(['version', 'tests']);
    expect(readFileSync(TESTS, 'utf8')).toContain('version: 1');
  });
});
