// The two sides of drift detection for objects whose SQL PostgreSQL rewrites (policies, views): the hash of
// what the file wants, and the catalog's own rendering. apply records both; plan compares both. Comparing
// renderings with renderings (never with our own SQL text) keeps a second plan empty on every major.
import { createHash } from 'node:crypto';
import type { CatalogPolicy, CatalogView } from '../catalog/types.js';
import type { Persona, PersonaTable } from '../compile/types.js';
import type { PolicySpec } from './statements.js';

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

export const policyKey = (schema: string, table: string, name: string): string => `policy ${schema}.${table} ${name}`;
export const viewKey = (schema: string, name: string): string => `view ${schema}.${name}`;
export const PASSWORD_KEY_PREFIX = 'password ';
export const LOGIN_KEY_PREFIX = 'login ';
export const RUNTIME_KEY = 'runtime';

export function renderPolicy(p: CatalogPolicy): string {
  return JSON.stringify({ command: p.command, permissive: p.permissive, roles: [...p.roles].sort(), using: p.using ?? null, withCheck: p.withCheck ?? null });
}

export function renderView(v: CatalogView): string {
  return JSON.stringify({ owner: v.owner, definition: v.definition, options: [...v.options].sort(), columns: v.columns });
}

export function desiredPolicyHash(p: PolicySpec): string {
  return sha256(JSON.stringify(p));
}

export function desiredViewHash(persona: Persona, t: PersonaTable): string {
  return sha256(JSON.stringify({ owner: persona.owner, table: t.table, columns: t.columns }));
}
