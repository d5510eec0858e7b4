// The two sides of drift detection for objects whose SQL PostgreSQL rewrites (policies, views): the hash of
// what the file wants, and the catalog's own rendering. apply records both; plan compares both. Comparing
// renderings with renderings (never with our own SQL text) keeps a second plan empty on every major.
import * as crypto from 'node:crypto';
import type { CatalogPolicy, CatalogView } from '../catalog/types.js';
import type { Persona, PersonaTable } from '../compile/types.js';
import type { PolicySpec } from './statements.js';

// crypto.hash (Node 20.12+; a namespace import, so that an older 20.x without it still loads this module): one
// call instead of a Hash object, update() and digest() per text. The plan hashes one text per policy and view
// (7,000 at 500 tables): 5,000 policy hashes took 30-47 ms cold with createHash, 22-30 ms with hash. Same digest.
const oneShot = typeof crypto.hash === 'function' ? crypto.hash : undefined;
const sha256 = (text: string): string => (oneShot ? oneShot('sha256', text, 'hex') : crypto.createHash('sha256').update(text).digest('hex'));

export const policyKey = (schema: string, table: string, name: string): string => `policy ${schema}.${table} ${name}`;
export const viewKey = (schema: string, name: string): string => `view ${schema}.${name}`;
export const PASSWORD_KEY_PREFIX = 'password ';
export const LOGIN_KEY_PREFIX = 'login ';
export const RUNTIME_KEY = 'runtime';

export function renderPolicy(p: CatalogPolicy): string {
  // A copy to sort only when there is something to sort (a persona policy has one role).
  const roles = p.roles.length < 2 ? p.roles : [...p.roles].sort();
  return JSON.stringify({ command: p.command, permissive: p.permissive, roles, using: p.using ?? null, withCheck: p.withCheck ?? null });
}

/**
 * renderPolicy, remembered: a persona's policies on 500 tables render alike (the table is not in the rendering),
 * so a plan renders a few dozen distinct texts for 5,000 policies. Found by the expression strings (each hashed
 * once) and compared field by field; a policy of several roles is rendered. For one plan: the memo grows with
 * the distinct renderings.
 */
export function policyRenderer(): (p: CatalogPolicy) => string {
  const memo = new Map<string | undefined, Map<string | undefined, { command: string; permissive: boolean; role: string; rendered: string }[]>>();
  return (p) => {
    const role = p.roles[0];
    if (p.roles.length !== 1 || role === undefined) return renderPolicy(p);
    let byCheck = memo.get(p.using);
    if (!byCheck) memo.set(p.using, (byCheck = new Map()));
    let seen = byCheck.get(p.withCheck);
    if (!seen) byCheck.set(p.withCheck, (seen = []));
    for (const e of seen) if (e.command === p.command && e.permissive === p.permissive && e.role === role) return e.rendered;
    const rendered = renderPolicy(p);
    seen.push({ command: p.command, permissive: p.permissive, role, rendered });
    return rendered;
  };
}

export function renderView(v: CatalogView): string {
  const options = v.options.length < 2 ? v.options : [...v.options].sort();
  return JSON.stringify({ owner: v.owner, definition: v.definition, options, columns: v.columns });
}

export function desiredPolicyHash(p: PolicySpec): string {
  return sha256(JSON.stringify(p));
}

export function desiredViewHash(persona: Persona, t: PersonaTable): string {
  return sha256(JSON.stringify({ owner: persona.owner, table: t.table, columns: t.columns }));
}
