// The converged record (src/apply/converged.ts): after an apply whose plan then had nothing to say, a plan of the
// same file answers `No changes.` from a fingerprint of the catalog instead of comparing every object. The
// property that matters: the answer is always the one the full comparison (--full) gives. Each case below changes
// one thing a plan reads (every statement of the catalog read, the environment, the options, the file) and
// checks that the record no longer answers and that both plans print the same thing; then that apply (or the
// undo) brings the record back into use.
//
// On a server of its own: roles are cluster-wide and part of what a plan reads, so the roles that the other test
// files create and drop meanwhile on the shared server would make the record miss at random.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { catalogFingerprint, type Alongside } from '../../src/catalog/fingerprint.js';
import { DEMO_OPERATOR, setupDemoDatabase } from '../../src/demo/setup.js';
import { startCluster, type Cluster } from '../../src/pg/cluster.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { adminUrl, userUrl } from '../helpers/db.js';
import { applyFile, DEMO_PASSWORD, DEMO_POLICIES, demoEnv, policyFile } from '../helpers/demo.js';
import { PG18_BIN_DIR } from '../helpers/pg18.js';

interface OwnDatabase {
  readonly name: string;
  /** Superuser URL. */
  readonly url: string;
  readonly operatorUrl: string;
  readonly sql: postgres.Sql;
  urlFor(user: string, password: string): string;
  drop(): Promise<void>;
}

let cluster: Cluster;

/** The demo database, policies not applied, on this file's own server (of the major the project runs). */
async function ownDemoDatabase(name: string): Promise<OwnDatabase> {
  const probe = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  const [v] = await probe`SELECT current_setting('server_version_num')::int / 10000 AS major`;
  await probe.end();
  cluster = await startCluster({ provider: 'local', fast: true, ...(v?.['major'] === 18 ? { binDir: PG18_BIN_DIR } : {}) });
  const operatorUrl = await setupDemoDatabase({ superuserUrl: cluster.url('postgres'), database: name, operator: DEMO_OPERATOR, applyPolicies: false });
  const url = cluster.url(name);
  const sql = postgres(url, { max: 2, onnotice: () => {} });
  return {
    name,
    url,
    operatorUrl,
    sql,
    urlFor: (user, password) => userUrl(url, user, password),
    drop: async () => {
      await sql.end();
      await cluster.stop();
    },
  };
}

const NOTE = /^note: the catalog is as the apply of (\S+) left it \(same file, same tenantctl, same catalog fingerprint\)/m;

let db: OwnDatabase;
let file: string;
let text: string;
let A: string;
let extraRole: string;
let extraLogin: string;

function plan(flags: string[] = [], env: NodeJS.ProcessEnv = demoEnv(db), path = file): Promise<CliResult> {
  return runCli(['plan', path, '--detailed-exitcode', ...flags], { env });
}

async function recordCount(): Promise<number> {
  const [row] = await db.sql`SELECT count(*)::int AS n FROM tenantctl.converged`;
  return row?.['n'] as number;
}

/** The plan answered from the record: No changes, the note, exit 0. */
async function expectAnswered(flags: string[] = [], path = file): Promise<void> {
  const r = await plan(flags, undefined, path);
  expect(r).toMatchObject({ code: 0, stdout: 'No changes.\n' });
  expect(r.stderr).toMatch(NOTE);
}

/** The record did not answer, and the plan printed what --full prints. */
async function expectFullAnswer(flags: string[] = [], env?: NodeJS.ProcessEnv, path?: string): Promise<CliResult> {
  const fast = await plan(flags, env, path);
  const full = await plan([...flags, '--full'], env, path);
  expect(fast.stderr).not.toMatch(NOTE);
  expect(fast).toEqual(full);
  return fast;
}

beforeAll(async () => {
  db = await ownDemoDatabase('converged_demo');
  A = 'conv_a';
  extraRole = 'conv_x';
  extraLogin = 'conv_y';
  text = readFileSync(DEMO_POLICIES, 'utf8')
    .replace('  - name: alice\n', `  - name: ${A}\n`)
    .replace(/  - name: bob\n(    .*\n)+?(?=  - name)/, '')
    .replace(/  - name: charlie\n(    .*\n)+?(?=\n)/, '');
  expect(text).not.toMatch(/alice|bob|charlie/);
  file = policyFile(text);
  const r = await applyFile(db, file);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
}, 120_000);

afterAll(async () => {
  await db?.drop();
});

describe('after an apply that converged', () => {
  it('records the catalog, and plan answers from it: No changes, a note naming the apply, exit 0', async () => {
    expect(await recordCount()).toBe(1);
    const [row] = await db.sql`SELECT recorded_at, schemas::text[] AS schemas, env FROM tenantctl.converged`;
    expect(row?.['schemas']).toEqual(['public']);
    // The password variable's name is kept, its value only as a salted scrypt.
    expect(row?.['env']).toMatchObject({ names: ['DEMO_PASSWORD'] });
    expect(JSON.stringify(row?.['env'])).not.toContain(DEMO_PASSWORD);
    const r = await plan();
    expect(r).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    expect(new Date(NOTE.exec(r.stderr)?.[1] ?? '').getTime()).toBe((row?.['recorded_at'] as Date).getTime());
  });

  it('prints the same document in every format as the full comparison', async () => {
    for (const format of ['json', 'sql', 'markdown']) {
      const fast = await plan(['--format', format]);
      const full = await plan(['--format', format, '--full']);
      expect(fast.stderr).toMatch(NOTE);
      expect(full.stderr).toBe('');
      expect(fast.stdout).toBe(full.stdout);
      expect(fast.code).toBe(0);
    }
  });

  it('still answers after ANALYZE of the catalogs (the catalog read returns its rows in a fixed order)', async () => {
    await db.sql`ANALYZE`;
    await expectAnswered();
  });

  it('--full compares every object: no note', async () => {
    expect(await plan(['--full'])).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
  });

  it('computes one fingerprint whether the statements run on one connection or are shared with a second', async () => {
    const other = postgres(db.url, { max: 1, onnotice: () => {} });
    try {
      await db.sql.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
        await tx.unsafe('SET LOCAL search_path TO "public"');
        const options = { schemas: ['public'], registrySchema: 'tenant_registry' };
        const alone = await catalogFingerprint(tx, options);
        const alongside: Alongside = async (work) => {
          const [s] = await tx.unsafe<{ snapshot: string }[]>('SELECT pg_export_snapshot() AS snapshot');
          const [result] = await other.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (ty) => {
            await ty.unsafe(`SET TRANSACTION SNAPSHOT '${s?.snapshot}'`);
            await ty.unsafe('SET LOCAL search_path TO "public"');
            return [await work(ty)];
          });
          return result as Awaited<ReturnType<typeof work>>;
        };
        expect(await catalogFingerprint(tx, options, alongside)).toBe(alone);
        expect(alone).toMatch(/^[0-9a-f]{64}$/);
        // Another governed schema list reads other objects.
        expect(await catalogFingerprint(tx, { ...options, schemas: ['public', 'tenant_registry'] })).not.toBe(alone);
      });
    } finally {
      await other.end();
    }
  });
});

interface Change {
  /** What the plan reads that this changes. */
  readonly reads: string;
  readonly change: string;
  /** SQL that puts it back; apply then converges whatever is left (the record then answers again). */
  readonly undo?: string;
}

// One change per statement of the catalog read (src/catalog/read.ts catalogQueries), each small enough that a
// plan may or may not care: whatever the full comparison says, the record must not answer.
const CHANGES: Change[] = [
  { reads: 'policies', change: `ALTER POLICY "%policy%" ON public.orders USING (true)` },
  { reads: 'views (comment)', change: `COMMENT ON VIEW "%view%" IS 'by hand'` },
  { reads: 'tables (row security)', change: 'ALTER TABLE public.orders NO FORCE ROW LEVEL SECURITY' },
  { reads: 'tables (a column added)', change: 'ALTER TABLE public.orders ADD COLUMN note text', undo: 'ALTER TABLE public.orders DROP COLUMN note' },
  { reads: 'grants', change: 'GRANT SELECT ON public.orders TO PUBLIC' },
  { reads: 'roles (a managed login)', change: `ALTER ROLE "%A%" CONNECTION LIMIT 7` },
  { reads: 'roles (any role of the cluster)', change: `CREATE ROLE "%X%"`, undo: `DROP ROLE "%X%"` },
  { reads: 'schemas', change: `COMMENT ON SCHEMA public IS 'by hand'`, undo: `COMMENT ON SCHEMA public IS 'standard public schema'` },
  { reads: 'principals', change: `UPDATE tenantctl.principals SET tenant = 'globex' WHERE role = '%A%'` },
  { reads: 'applied records', change: `UPDATE tenantctl.applied SET desired = 'by hand' WHERE object = 'policy public.orders %policy%'` },
  { reads: 'registry', change: `UPDATE tenant_registry.tenants SET status = 'frozen' WHERE slug = 'stark'`, undo: `UPDATE tenant_registry.tenants SET status = 'demo' WHERE slug = 'stark'` },
  { reads: 'runtime schema (its own record opened)', change: 'GRANT SELECT ON tenantctl.converged TO PUBLIC' },
];

describe('anything a plan reads changed: the record does not answer, and the plan is the full comparison', () => {
  it.each(CHANGES)('$reads', async ({ change, undo }) => {
    const [p] = await db.sql`SELECT polname::text AS name FROM pg_policy WHERE polrelid = 'public.orders'::regclass AND polname LIKE 'tenantctl\\_%' AND polcmd = 'r' LIMIT 1`;
    const [v] = await db.sql`SELECT format('%I.%I', n.nspname, c.relname) AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                              WHERE c.relkind = 'v' AND n.nspname LIKE 'tenantctl\\_%' AND c.relname = 'orders'`;
    const fill = (sql: string): string =>
      sql
        .replaceAll('%policy%', p?.['name'] as string)
        .replaceAll('"%view%"', v?.['name'] as string)
        .replaceAll('%A%', A)
        .replaceAll('%X%', extraRole);
    const [{ comment } = {}] = await db.sql`SELECT obj_description('public'::regnamespace, 'pg_namespace') AS comment`;
    expect(comment).toBe('standard public schema');
    await expectAnswered();
    await db.sql.unsafe(fill(change));
    await expectFullAnswer();
    if (undo) {
      // Put back exactly: the same catalog, read the same way, and the record answers again at once.
      await db.sql.unsafe(fill(undo));
      await expectAnswered();
    }
    const r = await applyFile(db, file);
    expect(r.code).toBe(0);
    await expectAnswered();
  });
});

describe('anything else a plan reads changed', () => {
  it('a password variable holds another value: the plan sets the password again', async () => {
    const r = await expectFullAnswer([], { ...demoEnv(db), DEMO_PASSWORD: 'another-Pass-9' });
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`ALTER ROLE "${A}" PASSWORD '<redacted>'`);
    await expectAnswered();
  });

  it('another option (--prune) or another registry schema', async () => {
    await expectFullAnswer(['--prune']);
    const r = await expectFullAnswer(['--registry-schema', 'other_registry']);
    expect(r.code).toBe(1);
    await expectAnswered();
  });

  it('another file with the same policies (a comment added)', async () => {
    await expectFullAnswer([], undefined, policyFile(`# reviewed\n${text}`));
  });

  it('the plan runs as another login (the catalog is read as another user)', async () => {
    await db.sql.unsafe('GRANT SELECT ON tenantctl.converged, tenantctl.applied, tenantctl.principals TO admin');
    try {
      const env = demoEnv(db, db.operatorUrl);
      const fast = await runCli(['plan', file, '--detailed-exitcode'], { env });
      expect(fast.stderr).not.toMatch(NOTE);
      expect(fast).toEqual(await runCli(['plan', file, '--detailed-exitcode', '--full'], { env }));
    } finally {
      await db.sql.unsafe('REVOKE SELECT ON tenantctl.converged, tenantctl.applied, tenantctl.principals FROM admin');
    }
    expect((await applyFile(db, file)).code).toBe(0);
    await expectAnswered();
  });
});

describe('what apply records', () => {
  it('an apply with nothing to change records the catalog when the record is missing, and writes nothing when it is there', async () => {
    await db.sql`DELETE FROM tenantctl.converged`;
    await expectFullAnswer();
    const r = await applyFile(db, file);
    expect(r).toEqual({ code: 0, stdout: 'No changes.\n', stderr: '' });
    const [before] = await db.sql`SELECT xmin::text AS version FROM tenantctl.converged`;
    await expectAnswered();
    expect(await applyFile(db, file)).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    const [after] = await db.sql`SELECT xmin::text AS version FROM tenantctl.converged`;
    expect(after?.['version']).toBe(before?.['version']);
  });

  it('--dry-run records nothing', async () => {
    await db.sql`DELETE FROM tenantctl.converged`;
    expect((await applyFile(db, file, '--dry-run')).code).toBe(0);
    expect(await recordCount()).toBe(0);
    expect((await applyFile(db, file)).code).toBe(0);
    expect(await recordCount()).toBe(1);
  });

  it('a file with a warning: nothing recorded (a plan prints the warning), every plan compares every object', async () => {
    const warned = policyFile(text.replace('schemas: [public]', 'schemas: [public, public]'));
    const r = await applyFile(db, warned);
    expect(r.stderr).toMatch(/warning: schema `public` is listed twice/);
    expect(r.code).toBe(0);
    expect(await recordCount()).toBe(0);
    const p = await expectFullAnswer([], undefined, warned);
    expect(p.stderr).toMatch(/listed twice/);
    expect((await applyFile(db, file)).code).toBe(0);
    await expectAnswered();
  });

  it('a plan that still has something to say after the apply: nothing recorded (a login the file no longer lists, without --prune)', async () => {
    const more = policyFile(text.replace('users:\n', `users:\n  - name: ${extraLogin}\n    password: { env: DEMO_PASSWORD }\n    tenant: globex\n    access: read\n`));
    expect((await applyFile(db, more)).code).toBe(0);
    await expectAnswered([], more);
    const r = await applyFile(db, file);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`^note: role ${extraLogin} was created by tenantctl but is no longer in the file`, 'm'));
    expect(await recordCount()).toBe(0);
    const p = await expectFullAnswer();
    expect(p.stderr).toMatch(/^note: role .* is no longer in the file/m);
    // --prune drops the login: that apply records the catalog for plans with --prune; the next plain apply, with
    // nothing to change, for plans without.
    expect((await applyFile(db, file, '--prune')).code).toBe(0);
    await expectAnswered(['--prune']);
    await expectFullAnswer();
    expect(await applyFile(db, file)).toMatchObject({ code: 0, stdout: 'No changes.\n' });
    await expectAnswered();
  });

  it('a record that is not what apply writes answers nothing (a plan never fails on it)', async () => {
    await db.sql`UPDATE tenantctl.converged SET env = '"not an object"'`;
    await expectFullAnswer();
    await db.sql`UPDATE tenantctl.converged SET env = '{"names": ["DEMO_PASSWORD"], "salt": "zz", "hash": "00"}'`;
    await expectFullAnswer();
    expect((await applyFile(db, file)).code).toBe(0);
    await expectAnswered();
  });

  it('the record table dropped by hand: plan works without it, and apply installs it again', async () => {
    await db.sql`DROP TABLE tenantctl.converged`;
    const r = await expectFullAnswer();
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/^~ update schema tenantctl \(runtime\) {2}\(neutral; drift: dropped outside tenantctl: table tenantctl.converged; the runtime is installed again\)$/m);
    expect((await applyFile(db, file)).code).toBe(0);
    await expectAnswered();
  });
});
