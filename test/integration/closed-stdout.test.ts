// A reader that goes away before the output ends (`tenantctl ... | head`, a pipe into a command that died): the
// command runs to its end and exits with its own code, since the rest of its output is only text; except
// `tenant export`, whose output is its product: that fails, and its audit row is not written.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEMO_POLICIES, demoDatabase, demoEnv, policyFile, type DemoDatabase } from '../helpers/demo.js';

let db: DemoDatabase;
let base: string;
let extra: string;
/** The demo policies plus one more user, `extra`: a change to plan and apply. */
let changed: string;

const op = (args: string[], closeStdout = true) => runCli(args, { env: demoEnv(db, db.operatorUrl), closeStdout });
const su = (args: string[], closeStdout = true) => runCli(args, { env: demoEnv(db), closeStdout });
const roleExists = async (name: string): Promise<boolean> => (await db.sql`SELECT 1 FROM pg_roles WHERE rolname = ${name}`).length === 1;

beforeAll(async () => {
  db = await demoDatabase('closed_stdout');
  extra = `pipe_${db.name.slice(-10)}`;
  base = readFileSync(DEMO_POLICIES, 'utf8');
  changed = base.replace('users:\n', `users:\n  - name: ${extra}\n    password: { env: DEMO_PASSWORD }\n    tenant: acme\n    access: read\n`);
  expect(changed).not.toBe(base);
  const r = await op(['apply', policyFile(base), '--yes'], false);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await db.sql.unsafe(`DROP OWNED BY "${extra}"`).catch(() => {});
  await db.sql.unsafe(`DROP ROLE IF EXISTS "${extra}"`).catch(() => {});
  await db.drop();
});

describe('stdout closed by its reader', () => {
  it('plan --detailed-exitcode still exits 2 for a change, and 0 for none', async () => {
    const change = await op(['plan', policyFile(changed), '--detailed-exitcode']);
    expect(change.stderr).toBe('');
    expect(change.code).toBe(2);
    const none = await op(['plan', policyFile(base), '--detailed-exitcode']);
    expect(none.stderr).not.toMatch(/error/i);
    expect(none.code).toBe(0);
    expect(await roleExists(extra)).toBe(false);
  });

  it('apply --yes runs to its COMMIT and exits 0', async () => {
    const r = await op(['apply', policyFile(changed), '--yes']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await roleExists(extra)).toBe(true);
    // Converged: a plan of the same file (output read this time) has nothing to do.
    const plan = await op(['plan', policyFile(changed), '--detailed-exitcode'], false);
    expect(plan.stdout).toMatch(/No changes\./);
    expect(plan.code).toBe(0);
  });

  it('an error still exits 1 with its message on stderr', async () => {
    const r = await op(['plan', policyFile(changed.replace('tenant: acme', 'tenant: acmee'))]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/acmee/);
  });

  it('with stderr closed too (`2>&1 | head`), plan and apply still exit with their own codes', async () => {
    const both = (args: string[]) => runCli(args, { env: demoEnv(db, db.operatorUrl), closeStdout: true, closeStderr: true });
    // The plan of an unchanged file writes a note on stderr, which used to crash the run (exit 1).
    expect((await both(['plan', policyFile(changed), '--detailed-exitcode'])).code).toBe(0);
    expect((await both(['plan', policyFile(base), '--detailed-exitcode'])).code).toBe(2);
    expect((await both(['plan', policyFile(changed.replace('tenant: acme', 'tenant: acmee'))])).code).toBe(1);
    // Back to the demo file: the extra user leaves the principals (a note on stderr says it keeps its login).
    expect((await both(['apply', policyFile(base), '--yes'])).code).toBe(0);
    expect(await db.sql`SELECT role FROM tenantctl.principals WHERE role = ${extra}`).toEqual([]);
  });

  it('tenant export fails, says its output is incomplete, and records no export', async () => {
    const exports = async () => (await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'tenant.export'`)[0]?.['n'];
    const before = await exports();
    const r = await su(['tenant', 'export', 'acme']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the output failed before the export was complete \(EPIPE\): what was written has no manifest, so tenant import refuses it/);
    expect(r.stderr).not.toMatch(/Exported/);
    expect(await exports()).toBe(before);
    // The same export, read to its end, succeeds and is recorded.
    const whole = await su(['tenant', 'export', 'acme'], false);
    expect(whole.code).toBe(0);
    expect(whole.stderr).toMatch(/^Exported \d+ rows/);
    expect(await exports()).toBe(before + 1);
  });
});
