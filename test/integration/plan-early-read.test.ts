// `tenantctl plan` checks the file on a worker thread while it connects and reads the catalog for the governed
// schemas the last apply recorded (src/apply/session.ts). These tests check that the early read is the one
// used when the guess is right, that a wrong, missing or unreadable guess only costs a second read, that a file
// with errors is reported as such whatever the database does, and that the thread's check is the check.
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import { transform } from 'esbuild';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planInTransaction, type SessionResult } from '../../src/apply/session.js';
import { RECORDED_SCHEMAS_KEY } from '../../src/catalog/types.js';
import { checkPolicyFile } from '../../src/policy/check.js';
import type { PolicyModel } from '../../src/policy/model.js';
import { runCli } from '../helpers/cli.js';
import { applyFile, DEMO_POLICIES, demoDatabase, demoEnv, policyFile, type DemoDatabase } from '../helpers/demo.js';

const UNREACHABLE = { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' };
const BAD_FILE = 'version: 1\nschemas: [public]\nusers:\n  - name: alice\n    tenant: acme\n    acess: read\n';

let db: DemoDatabase;
let model: PolicyModel;

beforeAll(async () => {
  db = await demoDatabase('early');
  const r = await applyFile(db, DEMO_POLICIES);
  expect(r.stderr).not.toMatch(/error/);
  expect(r.code).toBe(0);
  const checked = await checkPolicyFile(DEMO_POLICIES);
  expect(checked.errors).toEqual([]);
  model = checked.model!;
});

afterAll(async () => {
  await db.drop();
});

async function setRecord(rendered: string | undefined): Promise<void> {
  if (rendered === undefined) await db.sql`DELETE FROM tenantctl.applied WHERE object = ${RECORDED_SCHEMAS_KEY}`;
  else {
    await db.sql`INSERT INTO tenantctl.applied (object, desired, rendered) VALUES (${RECORDED_SCHEMAS_KEY}, ${rendered}, ${rendered})
                 ON CONFLICT (object) DO UPDATE SET desired = EXCLUDED.desired, rendered = EXCLUDED.rendered`;
  }
}

/** planInTransaction on its own connection, counting the statements it sends. */
async function planCounting(m: () => PolicyModel | Promise<PolicyModel>): Promise<{ result: SessionResult; statements: number }> {
  let n = 0;
  const sql = postgres(db.url, { max: 1, onnotice: () => {}, debug: () => void n++ });
  try {
    await sql`SELECT 1`;
    n = 0;
    const result = await sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', (tx) =>
      planInTransaction(tx, m(), { registrySchema: 'tenant_registry', env: demoEnv(db), plan: { prune: false } }),
    );
    return { result, statements: n };
  } finally {
    await sql.end();
  }
}

/**
 * The catalog but its roles: roles belong to the cluster, where other test files create and drop theirs while
 * this one runs. (The plan, which must stay empty, covers this database's roles.)
 */
function local(r: SessionResult): Omit<SessionResult['catalog'], 'roles'> {
  const { roles: _, ...rest } = r.catalog;
  return rest;
}

function steps(r: SessionResult): number {
  if (r.kind !== 'planned') throw new Error(`expected a plan, got ${r.kind}`);
  return r.plan.steps.length;
}

describe('the governed schemas record', () => {
  it('apply records the governed schemas in file order', async () => {
    const [row] = await db.sql`SELECT desired, rendered, fingerprint FROM tenantctl.applied WHERE object = ${RECORDED_SCHEMAS_KEY}`;
    expect(row).toEqual({ desired: JSON.stringify(model.schemas.map((s) => s.name)), rendered: JSON.stringify(model.schemas.map((s) => s.name)), fingerprint: null });
  });

  it('a model on its way: the catalog is read once, for the recorded schemas, when they are the file\'s', async () => {
    const known = await planCounting(() => model);
    const early = await planCounting(async () => model);
    expect(steps(known.result)).toBe(0);
    expect(steps(early.result)).toBe(0);
    // Two statements more (does tenantctl.applied exist, and its record), not a second catalog read.
    expect(early.statements).toBe(known.statements + 2);
    expect(local(early.result)).toStrictEqual(local(known.result));
  });

  it.each([
    ['other schemas', '["nope"]'],
    ['more schemas', '["public", "nope"]'],
  ])('a record of %s: the catalog is read again for the file\'s schemas, and the plan is the same', async (_, rendered) => {
    const right = await planCounting(async () => model);
    await setRecord(rendered);
    try {
      const known = await planCounting(() => model);
      const wrong = await planCounting(async () => model);
      expect(steps(wrong.result)).toBe(0);
      expect(local(wrong.result)).toStrictEqual(local(known.result));
      // search_path pinned again (2 statements) and the whole catalog read again (10).
      expect(wrong.statements).toBe(right.statements + 12);
    } finally {
      await setRecord(JSON.stringify(model.schemas.map((s) => s.name)));
    }
  });

  it.each([
    ['no record', undefined],
    ['a record that is not JSON', 'public'],
    ['a record that is not a list of names', '{"schemas": ["public"]}'],
    ['an empty list', '[]'],
  ])('%s: no early read, the same plan', async (_, rendered) => {
    await setRecord(rendered);
    try {
      const known = await planCounting(() => model);
      const none = await planCounting(async () => model);
      expect(steps(none.result)).toBe(0);
      expect(local(none.result)).toStrictEqual(local(known.result));
      // The two statements that look for the record, and nothing more.
      expect(none.statements).toBe(known.statements + 2);
      const cli = await runCli(['plan', DEMO_POLICIES, '--detailed-exitcode'], { env: demoEnv(db) });
      expect(cli).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    } finally {
      await setRecord(JSON.stringify(model.schemas.map((s) => s.name)));
    }
  });

  it('a model that never comes: planInTransaction rejects with its error, and the transaction ends', async () => {
    // Rejected at once, before planInTransaction looks at it: not an unhandled rejection meanwhile.
    await expect(planCounting(() => Promise.reject(new Error('the file has errors')))).rejects.toThrow('the file has errors');
    const later = () => new Promise<PolicyModel>((_, reject) => setTimeout(() => reject(new Error('the file has errors, later')), 200));
    await expect(planCounting(later)).rejects.toThrow('the file has errors, later');
    // The connection is usable afterwards: the transaction was rolled back.
    expect(steps((await planCounting(() => model)).result)).toBe(0);
  });
});

describe('tenantctl plan: the file first', () => {
  it('a file with errors and an unreachable database: the file\'s errors, exit 1, no word of the connection', async () => {
    const file = policyFile(BAD_FILE);
    const r = await runCli(['plan', file], { env: UNREACHABLE });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${file}:6:5: error:`);
    expect(r.stderr).toContain('did you mean `access`?');
    expect(r.stderr).toMatch(new RegExp(`error: ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid: \\d+ errors?; nothing was applied\\n$`));
    expect(r.stderr).not.toMatch(/ECONNREFUSED|connect|127\.0\.0\.1/);
  });

  it('a file with errors and a database: the same report, and the database unchanged', async () => {
    const file = policyFile(BAD_FILE);
    const before = await db.sql`SELECT object, desired, rendered FROM tenantctl.applied ORDER BY object`;
    const offline = await runCli(['plan', file], { env: UNREACHABLE });
    const online = await runCli(['plan', file], { env: demoEnv(db) });
    expect(online).toEqual(offline);
    expect(await db.sql`SELECT object, desired, rendered FROM tenantctl.applied ORDER BY object`).toEqual(before);
  });

  it('a file with errors and a server that never answers: the file\'s errors, exit 1, nothing about the server', async () => {
    // Accepts the connection and says nothing (a hung server, a proxy with nothing behind it). plan reports the
    // file as soon as it is checked; the process itself may outlive the report until postgres.js's connect
    // timeout (10 s) fires, which its end() does not cancel while the peer keeps the socket open.
    const sockets: Socket[] = [];
    const silent = createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const file = policyFile(BAD_FILE);
      const r = await runCli(['plan', file], { env: { DATABASE_URL: `postgres://nobody@127.0.0.1:${port}/none` } });
      expect(r).toEqual(await runCli(['plan', file], { env: UNREACHABLE }));
      expect(r.code).toBe(1);
      expect(sockets.length).toBe(1); // it did connect
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 60_000);

  it('a valid file and an unreachable database: the connection error, exit 1', async () => {
    const r = await runCli(['plan', DEMO_POLICIES], { env: { ...UNREACHABLE, DEMO_PASSWORD: 'x' } });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: .*(ECONNREFUSED|connect)/m);
  });
});

describe('the check on a worker thread', () => {
  const thread = new URL('../../dist/policy/check-thread.js', import.meta.url);

  it('is built beside its worker script, bundled (else it would check on the calling thread, or load slower)', () => {
    expect(existsSync(fileURLToPath(thread))).toBe(true);
    expect(existsSync(fileURLToPath(new URL('../../dist/policy/check-worker.js', import.meta.url)))).toBe(true);
    expect(existsSync(fileURLToPath(new URL('../../dist/policy/check.bundle.cjs', import.meta.url)))).toBe(true);
  });

  it('returns what checkPolicyFile returns, for a valid file and for a file with errors', async () => {
    const { checkPolicyFileOffThread } = (await import(thread.href)) as typeof import('../../src/policy/check-thread.js');
    const bad = policyFile(BAD_FILE);
    for (const file of [DEMO_POLICIES, bad]) {
      const off = await checkPolicyFileOffThread(file, 'policies.yaml');
      const on = await checkPolicyFile(file, 'policies.yaml');
      expect(off).toStrictEqual(on);
    }
    const offBad = await checkPolicyFileOffThread(bad);
    expect(offBad.model).toBeUndefined();
    expect(offBad.errors.length).toBeGreaterThan(0);
  });

  it('reports a file it cannot read like checkPolicyFile does', async () => {
    const { checkPolicyFileOffThread } = (await import(thread.href)) as typeof import('../../src/policy/check-thread.js');
    const missing = '/nonexistent/policies.yaml';
    expect(await checkPolicyFileOffThread(missing)).toStrictEqual(await checkPolicyFile(missing));
  });

  // Worker.terminate() while the thread still evaluates an ES module can abort the whole process in Node 20 (it
  // did once in CI: "Check failed: (location_) != nullptr" in SourceTextModule::ExecuteAsyncModule, when `plan`
  // stopped a check whose module ran it in a top-level await). The thread's module now imports only Node's own
  // modules and has no top-level await; it says `started` once evaluated, and only then loads the check (as
  // CommonJS) and runs it. The caller stops it only after `started`.
  const worker = fileURLToPath(new URL('../../dist/policy/check-worker.js', import.meta.url));

  it("has a module that imports only Node's own modules and does not await at its top level", async () => {
    const code = readFileSync(worker, 'utf8');
    const imported = [...code.matchAll(/^import\b[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(imported.length).toBeGreaterThan(0);
    expect(imported.filter((name) => !name?.startsWith('node:'))).toEqual([]);
    // esbuild refuses to make CommonJS of a module that awaits at its top level (checked on one that does).
    await expect(transform(code, { format: 'cjs', loader: 'js' })).resolves.toBeDefined();
    await expect(transform('await Promise.resolve(1);\nexport {};', { format: 'cjs', loader: 'js' })).rejects.toThrow(/[Tt]op-level await/);
  });

  it('says started, then posts the result', async () => {
    const expected = await checkPolicyFile(DEMO_POLICIES, 'policies.yaml');
    const thread = new Worker(worker, { workerData: { path: DEMO_POLICIES, file: 'policies.yaml' } });
    const messages: unknown[] = [];
    await new Promise<void>((resolve, reject) => {
      thread.on('message', (m: { kind: string }) => {
        messages.push(m);
        if (m.kind === 'result') resolve();
      });
      thread.once('error', reject);
    });
    await thread.terminate();
    expect(messages).toStrictEqual([{ kind: 'started' }, { kind: 'result', result: expected }]);
  });

  it('stopped at any moment, from before its start to the end of the check: rejects with the reason, and the process ends cleanly', async () => {
    // In a process of its own, so that a crash of the process is seen as one. Stop times spread over the
    // thread's start-up, its module's evaluation, the loading of the check and the check.
    const script = `
      const { checkPolicyFileOffThread } = await import(${JSON.stringify(thread.href)});
      const reason = new Error('not wanted');
      let rejected = 0, finished = 0;
      for (let i = 0; i < 40; i++) {
        const stop = new AbortController();
        const check = checkPolicyFileOffThread(${JSON.stringify(DEMO_POLICIES)}, 'policies.yaml', stop.signal);
        await new Promise((r) => setTimeout(r, (i * 7) % 120));
        stop.abort(reason);
        await check.then(() => finished++, (e) => { if (e !== reason) throw e; rejected++; });
      }
      const last = await checkPolicyFileOffThread(${JSON.stringify(DEMO_POLICIES)});
      console.log(JSON.stringify({ rejected, finished, model: last.model !== undefined }));
    `;
    const path = join(mkdtempSync(join(tmpdir(), 'tenantctl-stop-')), 'stop.mjs');
    writeFileSync(path, script);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [path], { timeout: 120_000 });
    expect(stderr).toBe('');
    const r = JSON.parse(stdout) as { rejected: number; finished: number; model: boolean };
    expect(r.model).toBe(true);
    expect(r.rejected + r.finished).toBe(40);
    expect(r.rejected).toBeGreaterThan(0);
  });
});
