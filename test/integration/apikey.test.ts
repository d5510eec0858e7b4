// apikey create/list/revoke/verify against a migrated registry: what is stored, what is shown, what verifies.
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, runCliToFullDisk } from '../helpers/cli.js';
import { freshDatabase, type TestDatabase } from '../helpers/db.js';
import { migrateRegistry } from '../helpers/demo.js';

let db: TestDatabase;
const cli = (args: string[], input?: string) => runCli(args, { env: { DATABASE_URL: db.url }, ...(input !== undefined ? { input } : {}) });

async function state(): Promise<unknown> {
  return {
    keys: await db.sql`SELECT id::text, tenant_id::text, name, prefix, hash, scopes, product, last_used_at, revoked_at FROM tenant_registry.api_keys ORDER BY id`,
    audit: await db.sql`SELECT count(*)::int AS n FROM tenant_registry.audit_log`,
  };
}

beforeAll(async () => {
  db = await freshDatabase('apikey');
  await migrateRegistry(db.url);
  for (const slug of ['acme', 'globex']) expect((await cli(['tenant', 'create', slug, '--name', slug, '--status', 'active'])).code).toBe(0);
});

afterAll(async () => {
  await db.drop();
});

describe('apikey', () => {
  let key = '';
  let id = '';

  it('create prints the key once; only the prefix and an argon2id hash are stored; one audit row without the secret', async () => {
    const r = await cli(['apikey', 'create', '--tenant', 'acme', '--name', 'ci', '--scopes', 'orders:read, orders:write', '--product', 'shop']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^tk_[a-z0-9]{8}_[A-Za-z0-9]{40}\n$/);
    key = r.stdout.trim();
    const [, prefix, secret] = key.split('_') as [string, string, string];
    const [row] = await db.sql`SELECT k.id::text, t.slug, k.name, k.prefix, k.hash, k.scopes, k.product, k.created_by, k.last_used_at, k.revoked_at
                                 FROM tenant_registry.api_keys k JOIN tenant_registry.tenants t ON t.id = k.tenant_id`;
    id = row?.['id'] as string;
    expect(r.stderr).toBe(`Created API key ${id} "ci" for tenant acme (prefix ${prefix}). It is shown only once: store it now.\n`);
    expect(row).toMatchObject({ slug: 'acme', name: 'ci', prefix, scopes: ['orders:read', 'orders:write'], product: 'shop', created_by: 'postgres', last_used_at: null, revoked_at: null });
    expect(row?.['hash']).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(row?.['hash']).not.toContain(secret);
    const audit = await db.sql`SELECT action, target_id, target_name, metadata::text AS metadata FROM tenant_registry.audit_log WHERE action = 'apikey.create'`;
    expect(audit).toEqual([{ action: 'apikey.create', target_id: id, target_name: 'ci', metadata: expect.any(String) }]);
    expect(JSON.parse(audit[0]?.['metadata'] as string)).toEqual({ tool: 'tenantctl', prefix, scopes: ['orders:read', 'orders:write'], product: 'shop' });
    expect(audit[0]?.['metadata']).not.toContain(secret);
  });

  it('list never shows secrets or hashes', async () => {
    const secret = key.split('_')[2] as string;
    const text = await cli(['apikey', 'list', '--tenant', 'acme']);
    expect(text.code).toBe(0);
    expect(text.stdout.split('\n')[0]).toMatch(/^ID +NAME +PREFIX +PRODUCT +SCOPES +CREATED +LAST USED +STATE$/);
    expect(text.stdout).toContain(`${id}  ci    tk_${key.split('_')[1]}_…  shop`);
    const json = await cli(['apikey', 'list', '--tenant', 'acme', '--format', 'json']);
    const hash = (await db.sql`SELECT hash FROM tenant_registry.api_keys`)[0]?.['hash'] as string;
    for (const out of [text.stdout, json.stdout]) {
      expect(out).not.toContain(secret);
      expect(out).not.toContain(hash);
      expect(out).not.toContain('argon2');
    }
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ id, name: 'ci', prefix: key.split('_')[1], product: 'shop', scopes: ['orders:read', 'orders:write'], revoked_at: null }),
    ]);
    expect(Object.keys((JSON.parse(json.stdout) as object[])[0] as object).sort()).toEqual(
      ['created_at', 'created_by', 'id', 'last_used_at', 'name', 'prefix', 'product', 'revoked_at', 'scopes'].sort(),
    );
    expect(await cli(['apikey', 'list', '--tenant', 'globex'])).toMatchObject({ code: 0, stdout: 'No API keys for tenant globex.\n' });
  });

  it('verify: 0 for the live key (records last_used_at), 1 for wrong, unknown, malformed keys and other products', async () => {
    const ok = await cli(['apikey', 'verify', key]);
    expect(ok).toMatchObject({ code: 0, stdout: `valid: API key ${id} "ci" of tenant acme, scopes orders:read,orders:write\n`, stderr: '' });
    expect((await db.sql`SELECT last_used_at IS NOT NULL AS used FROM tenant_registry.api_keys WHERE id = ${id}`)[0]?.['used']).toBe(true);
    expect((await cli(['apikey', 'verify', '-'], `${key}\n`)).code).toBe(0);
    expect((await cli(['apikey', 'verify', key, '--product', 'shop'])).code).toBe(0);

    const [, prefix, secret] = key.split('_') as [string, string, string];
    const flipped = secret.slice(0, -1) + (secret.endsWith('A') ? 'B' : 'A');
    const before = await state();
    for (const bad of [`tk_${prefix}_${flipped}`, `tk_zzzzzzzz_${secret}`, 'tk_short', 'hello', `${key}x`]) {
      expect(await cli(['apikey', 'verify', bad]), bad).toMatchObject({ code: 1, stdout: '', stderr: 'invalid API key\n' });
    }
    expect(await cli(['apikey', 'verify', key, '--product', 'crm'])).toMatchObject({ code: 1, stderr: 'invalid API key\n' });
    expect(await state()).toEqual(before);
  });

  it('bad input: duplicate name, unknown tenant, bad scope, unknown or malformed id; exit 1, nothing changed', async () => {
    const before = await state();
    const cases: [string[], string][] = [
      [['apikey', 'create', '--tenant', 'acme', '--name', 'ci'], 'error: tenant "acme" already has an API key named "ci"\n'],
      [['apikey', 'create', '--tenant', 'nobody', '--name', 'x'], 'error: unknown tenant "nobody"\n'],
      [['apikey', 'create', '--tenant', 'acme', '--name', 'x', '--scopes', 'a b'], 'error: invalid scope "a b": letters, digits and : . _ - / *, at most 64 characters\n'],
      [['apikey', 'list', '--tenant', 'nobody'], 'error: unknown tenant "nobody"\n'],
      [['apikey', 'revoke', '00000000-0000-4000-8000-000000000000'], 'error: unknown API key "00000000-0000-4000-8000-000000000000"\n'],
      [['apikey', 'revoke', 'ci'], 'error: invalid API key id "ci": expected the id (a UUID) that `apikey list` shows\n'],
    ];
    for (const [args, stderr] of cases) expect(await cli(args), args.join(' ')).toMatchObject({ code: 1, stdout: '', stderr });
    expect(await state()).toEqual(before);
  });

  it('create whose stdout fails (its reader gone) creates nothing: exit 1, no key, no audit row', async () => {
    const before = await state();
    for (const format of ['text', 'json']) {
      const r = await runCli(['apikey', 'create', '--tenant', 'acme', '--name', `lost-${format}`, '--format', format], { env: { DATABASE_URL: db.url }, closeStdout: true });
      expect(r, format).toMatchObject({ code: 1, stderr: 'error: the key could not be written to stdout (EPIPE): nothing was created\n' });
    }
    expect(await state()).toEqual(before);
  });

  it.runIf(existsSync('/dev/full'))('create whose stdout is a full disk creates nothing either: exit 1, no key, no audit row', async () => {
    const before = await state();
    expect(runCliToFullDisk(['apikey', 'create', '--tenant', 'acme', '--name', 'full'], { DATABASE_URL: db.url })).toEqual({
      code: 1,
      stderr: 'error: cannot write to standard output: ENOSPC: no space left on device, write\n',
    });
    expect(await state()).toEqual(before);
  });

  it('revoke sets revoked_at with one audit row; verify fails at once; revoking again changes nothing', async () => {
    const r = await cli(['apikey', 'revoke', id]);
    expect(r).toMatchObject({ code: 0, stdout: `Revoked API key ${id} "ci" of tenant acme.\n` });
    expect((await db.sql`SELECT revoked_at IS NOT NULL AS revoked FROM tenant_registry.api_keys WHERE id = ${id}`)[0]?.['revoked']).toBe(true);
    expect(await db.sql`SELECT action, target_id FROM tenant_registry.audit_log WHERE action = 'apikey.revoke'`).toEqual([{ action: 'apikey.revoke', target_id: id }]);
    expect(await cli(['apikey', 'verify', key])).toMatchObject({ code: 1, stderr: 'invalid API key\n' });
    const before = await state();
    expect(await cli(['apikey', 'revoke', id])).toMatchObject({ code: 0, stdout: `API key ${id} "ci" of tenant acme was already revoked; nothing changed.\n` });
    expect(await state()).toEqual(before);
    expect(JSON.parse((await cli(['apikey', 'list', '--tenant', 'acme', '--active', '--format', 'json'])).stdout)).toEqual([]);
  });

  it("an archived tenant's keys stop verifying, and it gets no new keys", async () => {
    const k = (await cli(['apikey', 'create', '--tenant', 'globex', '--name', 'bot'])).stdout.trim();
    expect((await cli(['apikey', 'verify', k])).code).toBe(0);
    expect((await cli(['tenant', 'archive', 'globex'])).code).toBe(0);
    expect(await cli(['apikey', 'verify', k])).toMatchObject({ code: 1, stderr: 'invalid API key\n' });
    expect(await cli(['apikey', 'create', '--tenant', 'globex', '--name', 'bot2'])).toMatchObject({ code: 1, stderr: 'error: tenant "globex" is archived: no new API keys\n' });
  });
});
