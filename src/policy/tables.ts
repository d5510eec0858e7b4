// Matching table references (names, schema.name, globs) against tables and against each other.
import type { TableRef } from './model.js';

export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`);
}

/** Does `ref` target the table `schema.name`? An unqualified ref matches that name in every governed schema. */
export function tableRefMatches(ref: TableRef, schema: string, name: string): boolean {
  if (ref.schema !== undefined && ref.schema !== schema) return false;
  return ref.glob ? globToRegExp(ref.name).test(name) : ref.name === name;
}

/**
 * Can two refs name the same table, as far as can be told without a catalog? Two different globs are only
 * known to overlap once tables are listed, so they count as overlapping only when identical.
 */
export function tableRefsOverlap(a: TableRef, b: TableRef): boolean {
  if (a.schema !== undefined && b.schema !== undefined && a.schema !== b.schema) return false;
  if (a.glob && b.glob) return a.name === b.name;
  if (a.glob) return globToRegExp(a.name).test(b.name);
  if (b.glob) return globToRegExp(b.name).test(a.name);
  return a.name === b.name;
}

export function tableRefText(ref: Pick<TableRef, 'schema' | 'name'>): string {
  return ref.schema === undefined ? ref.name : `${ref.schema}.${ref.name}`;
}
