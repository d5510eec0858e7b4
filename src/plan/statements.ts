// SQL text for every object tenantctl manages. Identifiers through ident(), values through literal().
import type { DesiredRole, Persona, PersonaTable, TableName } from '../compile/types.js';
import { ident, literal, qualified } from '../pg/quote.js';

export const tableSql = (t: TableName): string => qualified(t.schema, t.name);

export function createRole(role: DesiredRole, verifier: string | undefined): string {
  const parts = [
    `CREATE ROLE ${ident(role.name)}`,
    role.login ? 'LOGIN' : 'NOLOGIN',
    'NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT',
    `CONNECTION LIMIT ${role.connectionLimit}`,
  ];
  if (verifier !== undefined) parts.push(`PASSWORD ${literal(verifier)}`);
  return parts.join(' ');
}

export const REDACTED = "'<redacted>'";

export function redactPassword(statement: string): string {
  return statement.replace(/PASSWORD '(?:[^']|'')*'/g, `PASSWORD ${REDACTED}`);
}

export const commentOnRole = (name: string, comment: string): string => `COMMENT ON ROLE ${ident(name)} IS ${literal(comment)}`;
export const commentOnSchema = (name: string, comment: string): string => `COMMENT ON SCHEMA ${ident(name)} IS ${literal(comment)}`;

export function roleSearchPath(role: string, database: string, searchPath: string | undefined): string {
  return searchPath === undefined
    ? `ALTER ROLE ${ident(role)} IN DATABASE ${ident(database)} RESET search_path`
    : `ALTER ROLE ${ident(role)} IN DATABASE ${ident(database)} SET search_path = ${searchPath}`;
}

/** The persona's view of one table: visible columns in table order, masks in place, nothing else. */
export function createView(persona: Persona, t: PersonaTable): string[] {
  const view = qualified(persona.schema, t.table.name);
  const columns = t.columns.map((c) => (c.mask === undefined ? ident(c.name) : `(${c.mask}) AS ${ident(c.name)}`));
  const select = columns.length > 0 ? columns.join(', ') : '';
  return [
    `CREATE VIEW ${view} AS SELECT ${select} FROM ${tableSql(t.table)}`,
    `ALTER VIEW ${view} OWNER TO ${ident(persona.owner)}`,
    `COMMENT ON VIEW ${view} IS ${literal(`managed by tenantctl: ${tableSql(t.table)} as persona ${persona.id} sees it`)}`,
    ...viewGrants(persona, t),
  ];
}

export function viewGrants(persona: Persona, t: PersonaTable): string[] {
  const privileges = persona.access === 'readwrite' ? 'SELECT, INSERT, UPDATE, DELETE' : 'SELECT';
  return [`GRANT ${privileges} ON ${qualified(persona.schema, t.table.name)} TO ${ident(persona.reader)}`];
}

export interface PolicySpec {
  readonly table: TableName;
  readonly name: string;
  readonly command: 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';
  readonly role: string;
  readonly using?: string;
  readonly withCheck?: string;
}

export function createPolicy(p: PolicySpec): string {
  let sql = `CREATE POLICY ${ident(p.name)} ON ${tableSql(p.table)} AS PERMISSIVE FOR ${p.command} TO ${ident(p.role)}`;
  if (p.using !== undefined) sql += ` USING (${p.using})`;
  if (p.withCheck !== undefined) sql += ` WITH CHECK (${p.withCheck})`;
  return sql;
}

export const dropPolicy = (table: TableName, name: string): string => `DROP POLICY ${ident(name)} ON ${tableSql(table)}`;
