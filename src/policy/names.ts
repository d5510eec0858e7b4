// Name rules shared by the checks.

/** Schemas that are never governed and never readable from a policy (unless listed in allow_refs). */
export function isSystemSchema(schema: string): boolean {
  return schema === 'information_schema' || schema === 'tenantctl' || schema.startsWith('pg_');
}

/** Is `schema.name` (or an unqualified `pg_*` name, found through pg_catalog) a system relation? */
export function isSystemRelation(schema: string | undefined, name: string): boolean {
  return schema === undefined ? name.startsWith('pg_') : isSystemSchema(schema);
}

const RESERVED_ROLES = new Set(['public', 'none', 'current_user', 'session_user', 'current_role', 'user']);

/** Why `name` cannot be a PostgreSQL role created by tenantctl, or undefined when it can. */
export function roleNameProblem(name: string): string | undefined {
  if (Buffer.byteLength(name, 'utf8') > 63) return 'is longer than 63 bytes, the PostgreSQL limit for role names';
  if (name.toLowerCase().startsWith('pg_')) return 'starts with `pg_`, which PostgreSQL reserves for system roles';
  if (RESERVED_ROLES.has(name.toLowerCase())) return 'is reserved by PostgreSQL';
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'contains a control character';
  return undefined;
}

export const POLICY_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
export const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const TENANT_SLUG = /^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$/;
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A custom (placeholder) setting: two or more identifiers joined by dots, e.g. app.current_tenant. */
export const CUSTOM_SETTING = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)+$/;
export const SCRAM_VERIFIER = /^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

const ARTICLE: Record<string, string> = { text: 'a string', bigint: 'an integer', boolean: 'a boolean', 'text[]': 'a list of strings', uuid: 'a uuid' };

/** 'an integer' for bigint etc., for messages about attribute values. */
export function typeWords(type: string): string {
  return ARTICLE[type] ?? type;
}
