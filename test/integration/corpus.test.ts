// The bad-input corpus (test/corpus/bad/): every file, applied against a real database, must fail with its
// expected message at file:line:column, exit 1, and leave the catalog exactly as it was.
import { readdirSync, readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliResult } from '../helpers/cli.js';
import { demoDatabase, DEMO_PASSWORD, type DemoDatabase } from '../helpers/demo.js';
import { catalogSnapshot } from '../helpers/snapshot.js';

const CORPUS = fileURLToPath(new URL('../corpus/bad/', import.meta.url));
const EXPECTED = JSON.parse(readFileSync(join(CORPUS, 'EXPECTED.json'), 'utf8')) as Record<string, string>;
const FILES = readdirSync(CORPUS).filter((f) => f.endsWith('.yaml')).sort();

let db: DemoDatabase;
let before: unknown;
const results = new Map<string, CliResult>();

/** Apply as the demo's operator, from the corpus folder, so messages name the file as given. */
function applyBad(file: string, cwd = CORPUS): Promise<CliResult> {
  return runCli(['apply', file, '--yes'], { cwd, env: { DATABASE_URL: db.operatorUrl, DEMO_PASSWORD } });
}

beforeAll(async () => {
  db = await demoDatabase('corpus');
  // A first, valid apply, so that the corpus runs against a governed database (the state to preserve).
  const ok = await runCli(['apply', fileURLToPath(new URL('../../fixtures/demo_ecommerce/policies.yaml', import.meta.url)), '--yes'], {
    env: { DATABASE_URL: db.operatorUrl, DEMO_PASSWORD },
  });
  expect(ok.code).toBe(0);
  before = await catalogSnapshot(db.sql);
  // Four at a time: each is a separate process, as a user would run it.
  for (let i = 0; i < FILES.length; i += 4) {
    const batch = FILES.slice(i, i + 4);
    const done = await Promise.all(batch.map((f) => applyBad(f)));
    batch.forEach((f, j) => results.set(f, done[j] as CliResult));
  }
}, 300_000);

afterAll(async () => db.drop());

describe('the bad-input corpus', () => {
  it('has at least 60 files, each with an expected message', () => {
    expect(FILES.length).toBeGreaterThanOrEqual(60);
    expect(Object.keys(EXPECTED).sort()).toEqual(FILES);
  });

  it.each(FILES)('%s: exit 1, its message at file:line:column, nothing applied', (file) => {
    const r = results.get(file) as CliResult;
    expect(r.code).toBe(1);
    const first = r.stderr.split('\n')[0];
    expect(first).toBe(EXPECTED[file]?.replace('{database}', db.name));
    expect(first).toMatch(new RegExp(`^${file.replace(/\./g, '\\.')}:\\d+:\\d+: error: `));
    expect(r.stderr).toMatch(/nothing was applied/);
    expect(r.stdout).not.toContain('Apply complete');
  });

  it('after the whole corpus, the catalog is exactly as before', async () => {
    expect(await catalogSnapshot(db.sql)).toEqual(before);
  });

  it('a huge file (over 5 MiB) is refused before it is parsed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tenantctl-huge-'));
    writeFileSync(join(dir, 'huge.yaml'), 'version: 1\n' + `# ${'x'.repeat(100)}\n`.repeat(60_000));
    const r = await applyBad('huge.yaml', dir);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')[0]).toBe('huge.yaml:1:1: error: the file is 5.9 MiB; a policy file may be at most 5 MiB');
    expect(await catalogSnapshot(db.sql)).toEqual(before);
  });

  it('a user name full of SQL is a name, not SQL: it applies and is created verbatim, and nothing else happens', async () => {
    const name = `x"; DROP TABLE customers; --${db.name.slice(-6)}`;
    const dir = mkdtempSync(join(tmpdir(), 'tenantctl-inject-'));
    const text = readFileSync(fileURLToPath(new URL('../../fixtures/demo_ecommerce/policies.yaml', import.meta.url)), 'utf8').replace(
      'users:\n',
      `users:\n  - name: ${JSON.stringify(name)}\n    tenant: acme\n    attributes: { note: "'); DROP TABLE orders; --" }\n`,
    );
    writeFileSync(join(dir, 'policies.yaml'), text);
    const r = await runCli(['apply', 'policies.yaml', '--yes'], { cwd: dir, env: { DATABASE_URL: db.operatorUrl, DEMO_PASSWORD } });
    expect(r.stderr).not.toMatch(/error/);
    expect(r.code).toBe(0);
    expect(await db.sql`SELECT rolname FROM pg_roles WHERE rolname = ${name}`).toEqual([{ rolname: name }]);
    expect(await db.sql`SELECT attributes FROM tenantctl.principals WHERE role = ${name}`).toEqual([{ attributes: { note: "'); DROP TABLE orders; --" } }]);
    expect(await db.sql`SELECT to_regclass('public.customers') IS NOT NULL AS c, to_regclass('public.orders') IS NOT NULL AS o`).toEqual([{ c: true, o: true }]);
    await db.sql.unsafe(`DROP ROLE "${name.replace(/"/g, '""')}"`).catch(() => undefined);
  });
});
