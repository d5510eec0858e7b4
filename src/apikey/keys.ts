// API keys of the registry (api_keys): `tk_<8-char prefix>_<secret>`; only the prefix and an argon2id hash are stored.
import { randomBytes } from 'node:crypto';
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import { sql as raw } from 'kysely';
import { recordAudit } from '../registry/audit.js';
import { registry, run, type Executor } from '../registry/db.js';
import { getTenant, TenantError } from '../tenant/common.js';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SECRET_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
export const PREFIX_LENGTH = 8;
export const SECRET_LENGTH = 40;
export const KEY_PATTERN = new RegExp(`^tk_([a-z0-9]{${PREFIX_LENGTH}})_([A-Za-z0-9]{${SECRET_LENGTH}})$`);

// argon2id (algorithm 2), OWASP's second recommended setting: 19 MiB, 2 passes, 1 lane.
export const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19456, timeCost: 2, parallelism: 1 };

/** Uniform random characters of `alphabet` (rejection sampling: no modulo bias). */
function randomString(length: number, alphabet: string): string {
  let s = '';
  while (s.length < length) {
    for (const b of randomBytes(length * 2)) {
      if (b < 256 - (256 % alphabet.length)) s += alphabet[b % alphabet.length];
      if (s.length === length) break;
    }
  }
  return s;
}

export function generateKey(): { key: string; prefix: string; secret: string } {
  const prefix = randomString(PREFIX_LENGTH, ALPHABET);
  const secret = randomString(SECRET_LENGTH, SECRET_ALPHABET);
  return { key: `tk_${prefix}_${secret}`, prefix, secret };
}

export function parseKey(key: string): { prefix: string; secret: string } | undefined {
  const m = KEY_PATTERN.exec(key.trim());
  return m ? { prefix: m[1] as string, secret: m[2] as string } : undefined;
}

export const SCOPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9:._\-/*]{0,63}$/;

export interface CreateKeyInput {
  tenant: string;
  name: string;
  scopes?: string[];
  product?: string;
}

export interface CreatedKey {
  id: string;
  key: string;
  prefix: string;
  tenant: string;
  name: string;
  scopes: string[];
  product: string | null;
}

export async function createKey(tx: Executor, schema: string, input: CreateKeyInput): Promise<CreatedKey> {
  const name = input.name.trim();
  if (name === '') throw new TenantError('--name must not be empty');
  const scopes = [...new Set(input.scopes ?? [])];
  for (const s of scopes) if (!SCOPE_PATTERN.test(s)) throw new TenantError(`invalid scope "${s}": letters, digits and : . _ - / *, at most 64 characters`);
  if (input.product !== undefined && input.product.trim() === '') throw new TenantError('--product must not be empty');
  const t = await getTenant(tx, schema, input.tenant, true);
  if (t.status === 'archived') throw new TenantError(`tenant "${t.slug}" is archived: no new API keys`);
  const dup = await run(tx, registry(schema).selectFrom('api_keys').select('id').where('tenant_id', '=', t.id).where('name', '=', name));
  if (dup.length > 0) throw new TenantError(`tenant "${t.slug}" already has an API key named "${name}"`);
  let generated = generateKey();
  // Prefixes identify keys; a collision (36^8 values) is drawn again rather than left ambiguous.
  while ((await run(tx, registry(schema).selectFrom('api_keys').select('id').where('prefix', '=', generated.prefix))).length > 0) generated = generateKey();
  const hashed = await hash(generated.secret, ARGON2);
  const rows = await run(
    tx,
    registry(schema)
      .insertInto('api_keys')
      .values({
        tenant_id: t.id,
        product: input.product ?? null,
        name,
        scopes: raw<string[]>`${scopes}::text[]`,
        hash: hashed,
        prefix: generated.prefix,
        created_by: raw<string>`current_user`,
      })
      .returning(raw<string>`id::text`.as('id')),
  );
  const id = (rows[0] as { id: string }).id;
  await recordAudit(tx, schema, {
    action: 'apikey.create',
    targetType: 'api_key',
    targetId: id,
    targetName: name,
    tenantId: t.id,
    metadata: { prefix: generated.prefix, scopes, product: input.product ?? null },
  });
  return { id, key: generated.key, prefix: generated.prefix, tenant: t.slug, name, scopes, product: input.product ?? null };
}

export interface KeyInfo {
  id: string;
  name: string;
  prefix: string;
  product: string | null;
  scopes: string[];
  created_by: string | null;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

/** Never returns the hash. */
export async function listKeys(db: Executor, schema: string, tenant: string, includeRevoked = true): Promise<KeyInfo[]> {
  const t = await getTenant(db, schema, tenant);
  let q = registry(schema)
    .selectFrom('api_keys')
    .select([raw<string>`id::text`.as('id'), 'name', 'prefix', 'product', 'scopes', 'created_by', 'created_at', 'last_used_at', 'revoked_at'])
    .where('tenant_id', '=', t.id)
    .orderBy('created_at')
    .orderBy('name');
  if (!includeRevoked) q = q.where('revoked_at', 'is', null);
  return (await run(db, q)) as KeyInfo[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function revokeKey(tx: Executor, schema: string, id: string): Promise<{ changed: boolean; name: string; tenant: string }> {
  if (!UUID.test(id)) throw new TenantError(`invalid API key id "${id}": expected the id (a UUID) that \`apikey list\` shows`);
  const rows = await run(
    tx,
    registry(schema)
      .selectFrom('api_keys as k')
      .innerJoin('tenants as t', 't.id', 'k.tenant_id')
      .select(['k.name', 'k.revoked_at', 'k.prefix', 't.slug', 't.id as tenant_id'])
      .where('k.id', '=', id)
      .forUpdate(),
  );
  const k = rows[0];
  if (!k) throw new TenantError(`unknown API key "${id}"`);
  if (k.revoked_at !== null) return { changed: false, name: k.name, tenant: k.slug };
  await run(tx, registry(schema).updateTable('api_keys').set({ revoked_at: raw<Date>`now()` }).where('id', '=', id));
  await recordAudit(tx, schema, { action: 'apikey.revoke', targetType: 'api_key', targetId: id, targetName: k.name, tenantId: k.tenant_id, metadata: { prefix: k.prefix } });
  return { changed: true, name: k.name, tenant: k.slug };
}

/**
 * An argon2id hash, with the same parameters, of a random secret that was thrown away: verified when no stored
 * hash applies (malformed key, unknown prefix), so every verify costs one argon2 verification and nothing more
 * (computing a dummy hash at run time would make unknown prefixes slower than known ones).
 */
export const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$oGrU4m1dJFzwPpDsmvcBxw$DOI8bamMIbG3nKI31TTyjC9Z21XiZbebEjF5a/E24PI';

export interface VerifyResult {
  valid: boolean;
  id?: string;
  tenant?: string;
  name?: string;
  scopes?: string[];
  product?: string | null;
}

/**
 * Exactly one argon2 verification per call, whatever the key: a malformed key or an unknown prefix is checked
 * against a dummy hash, so the time taken does not depend on the secret (nor on whether the prefix exists
 * beyond one indexed lookup). A live key of a tenant that is not archived, for `product` when given, is valid;
 * its last_used_at is set.
 */
export async function verifyKey(db: Executor, schema: string, key: string, product?: string): Promise<VerifyResult> {
  const parsed = parseKey(key);
  const rows = parsed
    ? await run(
        db,
        registry(schema)
          .selectFrom('api_keys as k')
          .innerJoin('tenants as t', 't.id', 'k.tenant_id')
          .select([raw<string>`k.id::text`.as('id'), 'k.hash', 'k.name', 'k.scopes', 'k.product', 'k.revoked_at', 't.slug', 't.status'])
          .where('k.prefix', '=', parsed.prefix)
          .orderBy('k.created_at')
          .limit(1),
      )
    : [];
  const row = rows[0];
  const secret = parsed?.secret ?? randomString(SECRET_LENGTH, SECRET_ALPHABET);
  let matches = false;
  try {
    matches = await verify(row?.hash ?? DUMMY_HASH, secret);
  } catch {
    matches = false;
  }
  if (!row || !matches || row.revoked_at !== null || row.status === 'archived') return { valid: false };
  if (product !== undefined && row.product !== null && row.product !== product) return { valid: false };
  await run(db, registry(schema).updateTable('api_keys').set({ last_used_at: raw<Date>`now()` }).where(raw<boolean>`id = ${row.id}::uuid`));
  return { valid: true, id: row.id, tenant: row.slug, name: row.name, scopes: row.scopes, product: row.product };
}
