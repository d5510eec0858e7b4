// Turning zod issues into positioned diagnostics with plain messages (and a "did you mean" for unknown keys).
// Values are never echoed from under a `password` key.
import type { z } from 'zod';
import { error, type Diagnostic } from './diagnostic.js';
import { hasPath, positionAt, type Path } from './locate.js';
import type { PolicySource } from './load.js';
import { suggest } from './suggest.js';
import { describe, knownKeys, schemaAt, unionOptions, valueAt } from './zod-walk.js';

type Issue = z.core.$ZodIssue;

interface Ctx {
  readonly source: PolicySource;
  readonly root: z.ZodType;
  readonly data: unknown;
}

export function schemaDiagnostics(source: PolicySource, root: z.ZodType, data: unknown, issues: readonly Issue[]): Diagnostic[] {
  const ctx: Ctx = { source, root, data };
  return issues.flatMap((issue) => fromIssue(ctx, root, [], issue));
}

/** `the key` for messages: the last key on the path, or `an item of key` for a list element. */
function label(path: Path): string {
  const last = path[path.length - 1];
  if (last === undefined) return 'the file';
  if (typeof last === 'number') {
    const key = [...path].reverse().find((s) => typeof s === 'string');
    return key === undefined ? `item ${last + 1}` : `item ${last + 1} of \`${key}\``;
  }
  return `\`${last}\``;
}

function kindOf(value: unknown): string {
  if (value === null) return 'empty (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number with a fraction';
  if (typeof value === 'boolean') return 'a boolean';
  return 'a string';
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  int: 'an integer',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  record: 'a mapping',
};

function inPassword(path: Path): boolean {
  return path.includes('password');
}

function show(value: unknown, path: Path): string {
  if (inPassword(path)) return '';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return `; got \`${String(value)}\``;
  return '';
}

function fromIssue(ctx: Ctx, schema: z.ZodType, base: Path, issue: Issue): Diagnostic[] {
  const path: Path = [...base, ...(issue.path as PathKey[])];
  const at = (p: Path, part: 'key' | 'value' = 'value') => positionAt(ctx.source, p, part);
  const value = valueAt(ctx.data, path);
  switch (issue.code) {
    case 'invalid_type': {
      if (value === undefined && !hasPath(ctx.source, path)) {
        return [error(at(path.slice(0, -1)), `missing required key ${label(path)}`)];
      }
      if (path.length === 0) return [error(at(path), `the file must be a mapping with \`version: 1\` at the top, not ${kindOf(value)}`)];
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return [error(at(path), `${label(path)} must be ${expected}, not ${kindOf(value)}`)];
    }
    case 'unrecognized_keys': {
      const object = schemaAt(schema, path.slice(base.length), valueAt(ctx.data, base), true);
      const keys = object ? knownKeys(object) : [];
      return issue.keys.map((key) => {
        const where = path.length === 0 ? 'at the top level' : `in ${label(path)}`;
        return error(at([...path, key], 'key'), `unknown key \`${key}\` ${where}`, suggest(key, keys));
      });
    }
    case 'invalid_value': {
      const values = issue.values.map((v) => `\`${String(v)}\``);
      if (value === undefined && !hasPath(ctx.source, path)) return [error(at(path.slice(0, -1)), `missing required key ${label(path)}`)];
      if (path.length === 1 && path[0] === 'version') {
        return [error(at(path), `unsupported version${show(value, path).replace('; got', '')}: this tenantctl reads \`version: 1\``)];
      }
      const options = values.length === 1 ? values[0]! : `one of ${values.join(', ')}`;
      const got = typeof value === 'string' ? value : '';
      return [error(at(path), `${label(path)} must be ${options}${show(value, path)}`, inPassword(path) ? undefined : suggest(got, issue.values.map(String)))];
    }
    case 'invalid_union':
      return fromUnion(ctx, schema, base, path, issue, value);
    case 'too_small': {
      if (issue.origin === 'array') return [error(at(path), `${label(path)} must not be empty`)];
      if (issue.origin === 'string') return [error(at(path), `${label(path)} must not be empty`)];
      return [error(at(path), `${label(path)} must be at least ${String(issue.minimum)}${show(value, path)}`)];
    }
    case 'too_big':
      return [error(at(path), `${label(path)} must be at most ${String(issue.maximum)}`)];
    default:
      return [error(at(path), `${label(path)}: ${issue.message}`)];
  }
}

type PathKey = string | number;

function fromUnion(ctx: Ctx, schema: z.ZodType, base: Path, path: Path, issue: z.core.$ZodIssueInvalidUnion, value: unknown): Diagnostic[] {
  const at = (p: Path, part: 'key' | 'value' = 'value') => positionAt(ctx.source, p, part);
  if (issue.discriminator !== undefined) {
    // A policy whose `type` is missing or unknown: the path ends at the discriminator key.
    const options = ((issue as { options?: unknown[] }).options ?? []).map(String);
    if (value === undefined) return [error(at(path.slice(0, -1)), `missing required key \`${issue.discriminator}\` (one of ${options.join(', ')})`)];
    return [
      error(at(path), `unknown ${issue.discriminator} \`${String(value)}\`; expected one of ${options.join(', ')}`, suggest(String(value), options)),
    ];
  }
  const union = schemaAt(schema, path.slice(base.length), valueAt(ctx.data, base));
  const options = union ? unionOptions(union) : undefined;
  if (value === undefined && !hasPath(ctx.source, path)) return [error(at(path.slice(0, -1)), `missing required key ${label(path)}`)];
  // A key that no shape of the union accepts is the most likely mistake: say so, with a suggestion.
  if (union && value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const keys = knownKeys(union);
    const unknown = Object.keys(value).filter((k) => !keys.includes(k));
    if (keys.length > 0 && unknown.length > 0) {
      return unknown.map((k) => error(at([...path, k], 'key'), `unknown key \`${k}\` in ${label(path)}`, suggest(k, keys)));
    }
  }
  // Exactly one member matched the value's outer shape: report what is wrong inside it.
  const fitting = issue.errors
    .map((branch, index) => ({ branch, index }))
    .filter(({ branch }) => branch.every((i) => i.path.length > 0));
  if (fitting.length === 1 && options) {
    const { branch, index } = fitting[0]!;
    return branch.flatMap((i) => fromIssue(ctx, options[index]!, path, i));
  }
  const what = union ? describe(union) : undefined;
  return [error(at(path), `${label(path)} must be ${what ?? 'one of the documented shapes'}, not ${kindOf(value)}`)];
}
