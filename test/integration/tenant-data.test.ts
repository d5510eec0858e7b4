// tenant usage, quota, export, purge and import on demo_ecommerce, and projects/products: effects in the
// database and through real tenant logins; bad input changes nothing.
import { readFileSync } from 'node:fs';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { DEMO_POLICIES, demoDatabase, demoEnv, login, policyFile, type DemoDatabase } from '../helpers/demo.js';

let db: DemoDatabase;
let users: { acme: string; globex: string; stark: string };
let policies: string;
const sessions: postgres.Sql[] = [];
const su = (...args: string[]) => runCli(args, { env: demoEnv(db) });
const op = (...args: string[]) => runCli(args, { env: demoEnv(db, db.operatorUrl) });
const TABLES = ['organizations', 'customers', 'products', 'orders', 'order_items', 'payments', 'support_tickets'];

function as(user: string): postgres.Sql {
  const s = login(db, user);
  sessions.push(s);
  return s;
}

/** Every row of every governed table (all tenants), in a stable order. */
async function everything(): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const t of TABLES) out[t] = await db.sql.unsafe(`SELECT * FROM public.${t} ORDER BY 1`);
  return out;
}

async function counts(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of TABLES) out[t] = (await db.sql.unsafe(`SELECT count(*)::int AS n FROM public.${t}`))[0]?.['n'] as number;
  return out;
}

async function roleState(role: string): Promise<unknown> {
  return db.sql`SELECT r.rolconnlimit AS lim, (SELECT s.setconfig FROM pg_db_role_setting s WHERE s.setrole = r.oid AND s.setdatabase = (SELECT oid FROM pg_database WHERE datname = current_database())) AS settings
                  FROM pg_roles r WHERE r.rolname = ${role}`;
}

beforeAll(async () => {
  db = await demoDatabase('tenant_data');
  const suffix = db.name.slice(-10);
  users = { acme: `al_${suffix}`, globex: `bo_${suffix}`, stark: `ch_${suffix}` };
  // The demo users alice/bob/charlie are shared with other test files: purge drops logins, so use our own.
  policies = readFileSync(DEMO_POLICIES, 'utf8')
    .replace('name: alice', `name: ${users.acme}`)
    .replace('name: bob', `name: ${users.globex}`)
    .replace('name: charlie', `name: ${users.stark}`);
  const r = await op('apply', policyFile(policies), '--yes');
  expect(r.stderr).not.toMatch(/error/i);
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  for (const u of Object.values(users ?? {})) await db.sql.unsafe(`DROP ROLE IF EXISTS "${u}"`).catch(() => {});
  await db.drop();
});

describe('tenant usage and quota', () => {
  it('usage counts rows and bytes per governed table, owned directly or through foreign keys', async () => {
    const r = await su('tenant', 'usage', 'acme', '--format', 'json');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const u = JSON.parse(r.stdout) as { tables: { table: string; rows: number; bytes: number; scope: string }[]; rows: number; logins: string[]; connections: number; over: string[] };
    expect(u.tables.map((t) => [t.table, t.rows, t.scope])).toEqual([
      ['public.organizations', 1, 'name = tenant slug'],
      ['public.customers', 10, 'org = tenant slug'],
      ['public.orders', 34, 'org = tenant slug'],
      ['public.products', 20, 'org = tenant slug'],
      ['public.order_items', 68, 'through order_id -> public.orders or through product_id -> public.products'.replace(' or through', ' or')],
      ['public.payments', 28, 'through order_id -> public.orders'],
      ['public.support_tickets', 50, 'org = tenant slug'],
    ]);
    expect(u.tables.every((t) => t.bytes > 0)).toBe(true);
    expect(u.rows).toBe(211);
    expect(u.logins).toEqual([users.acme]);
    expect(u.over).toEqual([]);
    const s = as(users.acme);
    await s`SELECT 1`;
    expect((JSON.parse((await su('tenant', 'usage', 'acme', '--format', 'json')).stdout) as { connections: number }).connections).toBe(1);
    // Without a slug: every tenant.
    const all = JSON.parse((await su('tenant', 'usage', '--format', 'json')).stdout) as { tenant: string; rows: number }[];
    expect(all.map((x) => [x.tenant, x.rows])).toEqual([
      ['acme', 211],
      ['globex', 211],
      ['stark', 211],
    ]);
    // --tenant-column org: organizations has no org column and is left out.
    const byOrg = JSON.parse((await su('tenant', 'usage', 'acme', '--format', 'json', '--tenant-column', 'org')).stdout) as { tables: { table: string }[]; unscoped: string[] };
    expect(byOrg.tables.map((t) => t.table)).not.toContain('public.organizations');
    expect(byOrg.unscoped).toEqual(['public.organizations']);
  });

  it('usage needs a role that bypasses row security, and a column that exists', async () => {
    expect(await op('tenant', 'usage', 'acme')).toMatchObject({
      code: 1,
      stdout: '',
      stderr:
        "error: tenant usage needs a role that bypasses row security (a superuser or a BYPASSRLS role): admin is subject to the row-security policies forced on every governed table and would see none of the tenant's rows\n",
    });
    expect(await su('tenant', 'usage', 'acme', '--tenant-column', 'tenant')).toMatchObject({ code: 1, stderr: 'error: no governed table has a column named "tenant"\n' });
  });

  it('quota: CONNECTION LIMIT and statement_timeout on the tenant logins, enforced by PostgreSQL; rows and storage reported', async () => {
    const r = await op('tenant', 'quota', 'acme', '--max-connections', '1', '--statement-timeout', '1500ms', '--max-rows', '100', '--max-storage', '1MB');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'Quota of tenant acme:',
        '  max connections:    1 per login (enforced: CONNECTION LIMIT)',
        '  statement timeout:  1500ms (enforced: statement_timeout)',
        '  max rows:           100 (reported by tenant usage)',
        '  max storage:        1.0 MiB (reported by tenant usage)',
        `Enforced on 1 login: ${users.acme}.`,
        '',
      ].join('\n'),
    );
    expect(await roleState(users.acme)).toEqual([{ lim: 1, settings: expect.arrayContaining(['statement_timeout=1500ms']) }]);
    expect(await roleState(users.globex)).toEqual([{ lim: -1, settings: expect.not.arrayContaining(['statement_timeout=1500ms']) }]);
    const [q] = await db.sql`SELECT max_connections, statement_timeout_ms::int, max_rows::int, max_storage_bytes::int FROM tenant_registry.tenant_quotas`;
    expect(q).toEqual({ max_connections: 1, statement_timeout_ms: 1500, max_rows: 100, max_storage_bytes: 1048576 });

    // Enforced by PostgreSQL: a fresh login gets the timeout; a second connection is refused.
    await Promise.all(sessions.splice(0).map((s) => s.end()));
    const first = login(db, users.acme);
    try {
      expect((await first`SHOW statement_timeout`)[0]?.['statement_timeout']).toBe('1500ms');
      await expect(first`SELECT pg_sleep(3)`).rejects.toMatchObject({ code: '57014' });
      const second = login(db, users.acme);
      await expect(second`SELECT 1`).rejects.toMatchObject({ code: '53300', message: `too many connections for role "${users.acme}"` });
      await second.end();
    } finally {
      await first.end();
    }
    await Promise.all(sessions.splice(0).map((s) => s.end()));

    expect((await op('tenant', 'show', 'acme')).stdout).toContain('  quota:     1 connections per login, statement timeout 1500ms, 100 rows, 1048576 bytes\n');
    const usage = await su('tenant', 'usage', 'acme', '--exit-code');
    expect(usage.code).toBe(2);
    expect(usage.stdout).toContain('  over quota: rows: 211 > max 100\n');
    expect(await db.sql`SELECT action, metadata -> 'to' AS q FROM tenant_registry.audit_log WHERE action = 'tenant.quota'`).toEqual([
      { action: 'tenant.quota', q: { maxConnections: 1, statementTimeoutMs: 1500, maxRows: 100, maxStorageBytes: 1048576 } },
    ]);
  });

  it('apply resets CONNECTION LIMIT to the file value: usage reports the drift; quota with no option enforces it again', async () => {
    expect((await op('apply', policyFile(policies), '--yes')).code).toBe(0);
    expect(await roleState(users.acme)).toEqual([{ lim: -1, settings: expect.arrayContaining(['statement_timeout=1500ms']) }]);
    const usage = await su('tenant', 'usage', 'acme');
    expect(usage.stdout).toContain(`  drift: ${users.acme}: CONNECTION LIMIT -1, quota 1 (run \`tenantctl tenant quota acme\` to enforce it again)\n`);
    expect((await op('tenant', 'quota', 'acme')).code).toBe(0);
    expect(await roleState(users.acme)).toEqual([{ lim: 1, settings: expect.arrayContaining(['statement_timeout=1500ms']) }]);
    expect(await su('tenant', 'usage', 'acme')).not.toMatchObject({ stdout: expect.stringContaining('drift') });
    // Clearing.
    expect((await op('tenant', 'quota', 'acme', '--max-connections', 'none', '--statement-timeout', 'none', '--max-rows', 'none', '--max-storage', 'none')).code).toBe(0);
    expect(await roleState(users.acme)).toEqual([{ lim: -1, settings: expect.not.arrayContaining(['statement_timeout=1500ms']) }]);
  });

  it('bad quota input changes nothing', async () => {
    const before = { q: await db.sql`SELECT * FROM tenant_registry.tenant_quotas`, r: await roleState(users.acme), a: await db.sql`SELECT count(*) FROM tenant_registry.audit_log` };
    const cases: [string[], string][] = [
      [['--max-connections', 'many'], 'error: --max-connections must be a whole number or "none", got "many"\n'],
      [['--statement-timeout', 'soon'], 'error: --statement-timeout: invalid duration "soon"; expected e.g. 500ms, 15s or 2m\n'],
      [['--max-storage', '10 parsecs'], 'error: --max-storage must be a size such as 500MB, 10GB or a number of bytes, or "none", got "10 parsecs"\n'],
    ];
    for (const [args, stderr] of cases) expect(await op('tenant', 'quota', 'acme', ...args), args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr });
    expect(await op('tenant', 'quota', 'nobody', '--max-connections', '3')).toMatchObject({ code: 1, stderr: 'error: unknown tenant "nobody"\n' });
    expect({ q: await db.sql`SELECT * FROM tenant_registry.tenant_quotas`, r: await roleState(users.acme), a: await db.sql`SELECT count(*) FROM tenant_registry.audit_log` }).toEqual(before);
  });
});

describe('export, purge, import on demo_ecommerce', () => {
  let stream = '';
  let original: Record<string, unknown[]>;

  it('export streams COPY sections and a manifest; one audit row', async () => {
    original = await everything();
    const r = await su('tenant', 'export', 'acme');
    expect(r.code).toBe(0);
    stream = r.stdout;
    expect(stream.startsWith('-- tenantctl tenant export, format 1\nCOPY "public"."organizations" ("name", "created_at") FROM stdin;\nacme\t2025-01-01 00:00:00+00\n\\.\n')).toBe(true);
    const manifest = JSON.parse(stream.trimEnd().split('\n').pop()!.replace('-- manifest: ', '')) as { tenant: { slug: string }; tables: { table: string; rows: number; sha256: string }[]; rows: number };
    expect(manifest.tenant.slug).toBe('acme');
    expect(manifest.tables.map((t) => [t.table, t.rows])).toEqual([
      ['public.organizations', 1],
      ['public.customers', 10],
      ['public.orders', 34],
      ['public.products', 20],
      ['public.order_items', 68],
      ['public.payments', 28],
      ['public.support_tickets', 50],
    ]);
    expect(manifest.rows).toBe(211);
    expect(r.stderr).toMatch(/^Exported 211 rows of 7 tables of tenant acme \(sha256 [0-9a-f]{64}\)\.\n$/);
    // Raw values: masks and denied columns are for data-plane users, not for the export.
    const [card] = await db.sql`SELECT ssn, credit_card FROM public.customers WHERE org = 'acme' AND credit_card IS NOT NULL ORDER BY id LIMIT 1`;
    expect(stream).toContain(`\t${card?.['ssn'] as string}\t${card?.['credit_card'] as string}\t`);
    expect((await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log WHERE action = 'tenant.export'`)[0]?.['n']).toBe(1);
  });

  it('purge without --confirm only reports', async () => {
    const before = await counts();
    const r = await su('tenant', 'purge', 'acme');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        '  public.support_tickets: 50 rows',
        '  public.payments: 28 rows',
        '  public.order_items: 68 rows',
        '  public.products: 20 rows',
        '  public.orders: 34 rows',
        '  public.customers: 10 rows',
        '  public.organizations: 1 row',
        `  logins: ${users.acme}`,
        '  audit rows detached (tenant_id set to NULL): 4',
        'Would delete 211 rows and 1 login of tenant acme. Nothing was changed: pass --confirm to purge.',
        '',
      ].join('\n'),
    );
    expect(await counts()).toEqual(before);
  });

  it('purge --confirm deletes every governed row, principals row and login of the tenant in one transaction; idempotent', async () => {
    const g = as(users.globex);
    const globexBefore = await g`SELECT count(*)::int AS n FROM customers`;
    const r = await su('tenant', 'purge', 'acme', '--confirm');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Deleted 211 rows and 1 login of tenant acme; it is archived.');
    expect(await counts()).toEqual({ organizations: 2, customers: 20, products: 40, orders: 68, order_items: 136, payments: 56, support_tickets: 100 });
    for (const t of ['customers', 'orders', 'products', 'support_tickets']) {
      expect((await db.sql.unsafe(`SELECT count(*)::int AS n FROM public.${t} WHERE org = 'acme'`))[0]?.['n']).toBe(0);
    }
    expect(await db.sql`SELECT rolname FROM pg_roles WHERE rolname = ${users.acme}`).toEqual([]);
    expect(await db.sql`SELECT role FROM tenantctl.principals WHERE tenant = 'acme'`).toEqual([]);
    expect(await db.sql`SELECT status::text FROM tenant_registry.tenants WHERE slug = 'acme'`).toEqual([{ status: 'archived' }]);
    const audit = await db.sql`SELECT action, tenant_id, target_name FROM tenant_registry.audit_log WHERE target_name = 'acme' ORDER BY id`;
    expect(audit.map((a) => [a.action, a.tenant_id])).toEqual([
      ['tenant.quota', null],
      ['tenant.quota', null],
      ['tenant.quota', null],
      ['tenant.export', null],
      ['tenant.purge', null],
    ]);
    expect(await g`SELECT count(*)::int AS n FROM customers`).toEqual(globexBefore);
    // Re-running finds nothing and changes nothing.
    const before = { c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` };
    expect(await su('tenant', 'purge', 'acme', '--confirm')).toMatchObject({ code: 0, stdout: 'Tenant acme is already purged: nothing left to delete.\n' });
    expect({ c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` }).toEqual(before);
    expect(await su('tenant', 'purge', 'nobody', '--confirm')).toMatchObject({ code: 1, stdout: '', stderr: 'error: unknown tenant "nobody"\n' });
    expect(await op('tenant', 'purge', 'globex', '--confirm')).toMatchObject({ code: 1, stderr: expect.stringContaining('error: tenant purge needs a role that bypasses row security') });
    expect({ c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` }).toEqual(before);
  });

  it('import refuses corrupt, truncated, foreign and wrong-tenant streams, changing nothing', async () => {
    const globex = (await su('tenant', 'export', 'globex')).stdout;
    const before = { c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` };
    const corrupt = stream.replace('Alice', 'Alicf');
    const cases: [string, string, string][] = [
      ['acme', '', 'error: not a valid tenantctl export: the input is empty; nothing was imported\n'],
      ['acme', 'hello\n', 'error: not a valid tenantctl export: it does not start with the tenantctl export header; nothing was imported\n'],
      ['acme', stream.slice(0, stream.lastIndexOf('-- manifest: ') - 100), 'error: not a valid tenantctl export: the manifest line is missing (truncated stream?); nothing was imported\n'],
      ['acme', stream.slice(0, stream.length - 200), 'error: not a valid tenantctl export: the manifest is not valid JSON; nothing was imported\n'],
      ['acme', corrupt, 'error: not a valid tenantctl export: the checksum of the stream does not match its manifest (corrupted or edited); nothing was imported\n'],
      ['acme', globex, 'error: the stream is an export of tenant "globex", not "acme"; nothing was imported\n'],
      ['nobody', stream, 'error: unknown tenant "nobody"\n'],
      ['globex', globex, 'error: tenant "globex" still has 1 rows in public.organizations: import loads into an empty tenant (purge it first); nothing was imported\n'],
    ];
    for (const [slug, input, stderr] of cases) {
      expect(await runCli(['tenant', 'import', slug], { env: demoEnv(db), input }), stderr).toMatchObject({ code: 1, stdout: '', stderr });
    }
    // A stream whose rows belong to another tenant, with consistent checksums: caught after loading, rolled back.
    const { createHash } = await import('node:crypto');
    const forged = (() => {
      const body = stream.slice(0, stream.lastIndexOf('-- manifest: '));
      const m = JSON.parse(stream.slice(stream.lastIndexOf('-- manifest: ') + 13)) as { tables: { table: string; sha256: string }[]; sha256: string };
      const swapped = body.replace(/^(COPY "public"\."support_tickets"[^\n]*\n)([^\n]*)\tacme\t/m, '$1$2\tstark\t');
      const section = swapped.split('COPY "public"."support_tickets"')[1]!.split('\n').slice(1);
      const data = section.slice(0, section.indexOf('\\.')).map((l) => l + '\n').join('');
      m.tables.find((t) => t.table === 'public.support_tickets')!.sha256 = createHash('sha256').update(data).digest('hex');
      m.sha256 = createHash('sha256').update(swapped).digest('hex');
      return swapped + '-- manifest: ' + JSON.stringify(m) + '\n';
    })();
    expect(forged).not.toBe(stream);
    expect(await runCli(['tenant', 'import', 'acme'], { env: demoEnv(db), input: forged })).toMatchObject({
      code: 1,
      stderr: 'error: public.support_tickets: the stream holds 50 rows but only 49 belong to tenant "acme" (rows of another tenant?); nothing was imported\n',
    });
    expect({ c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` }).toEqual(before);
  });

  it('import --dry-run validates and rolls back; import gives back identical rows', async () => {
    const before = { c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` };
    const dry = await runCli(['tenant', 'import', 'acme', '--dry-run'], { env: demoEnv(db), input: stream });
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout.trimEnd().split('\n').pop()).toBe('Dry run: the stream is valid and 211 rows loaded into 7 tables, then rolled back. Nothing was changed.');
    expect({ c: await counts(), a: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log` }).toEqual(before);

    const r = await runCli(['tenant', 'import', 'acme'], { env: demoEnv(db), input: stream });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('Imported 211 rows into 7 tables of tenant acme.');
    expect(await everything()).toEqual(original);
    expect(await db.sql`SELECT action, metadata -> 'rows' AS rows FROM tenant_registry.audit_log WHERE action = 'tenant.import'`).toEqual([{ action: 'tenant.import', rows: 211 }]);
    // A second export is byte-identical but for the time in the manifest.
    const again = (await su('tenant', 'export', 'acme')).stdout;
    const body = (s: string): string => s.slice(0, s.lastIndexOf('-- manifest: '));
    expect(body(again)).toBe(body(stream));
  });
});

describe('projects and products', () => {
  it('project create/list/archive and product enable/disable/list, with audit rows', async () => {
    expect(await op('tenant', 'project', 'create', 'globex', 'web', '--name', 'Web shop')).toMatchObject({ code: 0, stdout: expect.stringMatching(/^Created project web \([0-9a-f-]{36}\) of tenant globex\.\n$/) });
    expect(await op('tenant', 'project', 'create', 'globex', 'web', '--name', 'Again')).toMatchObject({ code: 1, stderr: 'error: tenant "globex" already has a project "web"\n' });
    expect(await op('tenant', 'project', 'create', 'globex', 'Web!', '--name', 'x')).toMatchObject({ code: 1, stderr: expect.stringContaining('error: invalid project slug "Web!"') });
    expect(await op('tenant', 'project', 'archive', 'globex', 'web')).toMatchObject({ code: 0, stdout: 'Archived project web of tenant globex.\n' });
    expect(await op('tenant', 'project', 'archive', 'globex', 'api')).toMatchObject({ code: 1, stderr: 'error: tenant "globex" has no project "api"\n' });
    expect(JSON.parse((await op('tenant', 'project', 'list', 'globex', '--format', 'json')).stdout)).toEqual([expect.objectContaining({ slug: 'web', name: 'Web shop', status: 'archived' })]);

    expect(await op('tenant', 'product', 'enable', 'globex', 'crm', '--config', '{"max_seats": 25}', '--expires', '2000-01-01')).toMatchObject({ code: 0, stdout: 'Enabled product crm for tenant globex until 2000-01-01T00:00:00.000Z.\n' });
    expect(await op('tenant', 'product', 'enable', 'globex', 'crm')).toMatchObject({ code: 0, stdout: 'Product crm of tenant globex is already enabled as asked; nothing changed.\n' });
    expect(await op('tenant', 'product', 'enable', 'globex', 'shop', '--config', '[1]')).toMatchObject({ code: 1, stderr: 'error: --config must be a JSON object, e.g. \'{"max_seats": 10}\'\n' });
    expect(await op('tenant', 'product', 'enable', 'globex', 'shop', '--expires', 'tomorrow')).toMatchObject({ code: 1, stderr: expect.stringContaining('error: --expires must be an ISO date') });
    expect(await op('tenant', 'product', 'disable', 'globex', 'shop')).toMatchObject({ code: 1, stderr: 'error: tenant "globex" has no product "shop"\n' });
    const list = await op('tenant', 'product', 'list', 'globex');
    expect(list.stdout).toBe('PRODUCT  STATE    EXPIRES                   CONFIG\ncrm      expired  2000-01-01T00:00:00.000Z  {"max_seats":25}\n');
    expect(await op('tenant', 'product', 'disable', 'globex', 'crm')).toMatchObject({ code: 0, stdout: 'Disabled product crm for tenant globex.\n' });
    expect(await db.sql`SELECT product, enabled, config FROM tenant_registry.tenant_products`).toEqual([{ product: 'crm', enabled: false, config: { max_seats: 25 } }]);
    const actions = await db.sql`SELECT a.action FROM tenant_registry.audit_log a JOIN tenant_registry.tenants t ON t.id = a.tenant_id WHERE t.slug = 'globex' AND a.action LIKE 'tenant.p%' ORDER BY a.id`;
    expect(actions.map((a) => a.action)).toEqual(['tenant.project.create', 'tenant.project.archive', 'tenant.product.enable', 'tenant.product.disable']);
  });
});
