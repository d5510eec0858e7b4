// The one place where identifiers and literals become SQL text. Everything that builds SQL from names or
// values goes through these two functions; values that can be bound as parameters are bound instead.

/** Quote an identifier the way PostgreSQL's quote_ident() does, but always (never bare). */
export function ident(name: string): string {
  if (name.length === 0) throw new Error('empty SQL identifier');
  if (name.includes('\u0000')) throw new Error('SQL identifier contains a NUL byte');
  return '"' + name.replace(/"/g, '""') + '"';
}

/** A schema-qualified name, both parts quoted. */
export function qualified(schema: string, name: string): string {
  return `${ident(schema)}.${ident(name)}`;
}

/**
 * A grantee as GRANT, REVOKE and CREATE POLICY ... TO take it: the catalog's `public` (aclexplode's grantee 0,
 * polroles' 0) is the keyword PUBLIC; quoted it would name a role called "public", which cannot exist.
 */
export function grantee(name: string): string {
  return name === 'public' ? 'PUBLIC' : ident(name);
}

/**
 * Quote a literal as quote_literal() does with standard_conforming_strings on (the default since 9.1):
 * single quotes doubled, and an E'' string only when a backslash is present.
 */
export function literal(value: string | number | boolean | bigint | null): string {
  if (value === null) return 'NULL';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new Error(`cannot write ${value} as an SQL literal`);
    return String(value);
  }
  if (typeof value === 'bigint') return value.toString();
  if (value.includes('\u0000')) throw new Error('SQL literal contains a NUL byte');
  const doubled = value.replace(/'/g, "''");
  return value.includes('\\') ? `E'${doubled.replace(/\\/g, '\\\\')}'` : `'${doubled}'`;
}
