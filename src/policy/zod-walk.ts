// Walking a zod schema alongside the data it checks, to find which object an issue happened in (for the
// "did you mean" of an unknown key) and the description of a union (for its error message).
import type { z } from 'zod';
import type { Path } from './locate.js';

type AnySchema = z.ZodType;
interface Def {
  readonly type: string;
  readonly shape?: Record<string, AnySchema>;
  readonly element?: AnySchema;
  readonly innerType?: AnySchema;
  readonly options?: readonly AnySchema[];
  readonly discriminator?: string;
  readonly valueType?: AnySchema;
  readonly in?: AnySchema;
}

const def = (s: AnySchema): Def => (s as unknown as { _zod: { def: Def } })._zod.def;

/** Strip optional/default/nullable wrappers. */
export function unwrap(s: AnySchema): AnySchema {
  let cur = s;
  for (;;) {
    const d = def(cur);
    if (d.innerType && ['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType;
    else if (d.type === 'pipe' && d.in) cur = d.in;
    else return cur;
  }
}

export function valueAt(data: unknown, path: Path): unknown {
  let cur = data;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string | number, unknown>)[seg];
  }
  return cur;
}

export function unionOptions(s: AnySchema): readonly AnySchema[] | undefined {
  const d = def(unwrap(s));
  return d.type === 'union' ? d.options : undefined;
}

/** The keys an object schema accepts, including every object reachable through unions. */
export function knownKeys(s: AnySchema): string[] {
  const d = def(unwrap(s));
  if (d.type === 'object' && d.shape) return Object.keys(d.shape);
  if (d.type === 'union' && d.options) return [...new Set(d.options.flatMap(knownKeys))];
  return [];
}

/** Pick the union member that `data` is meant to be (discriminator, else the first one that fits the shape). */
function chooseOption(d: Def, data: unknown): AnySchema | undefined {
  const options = d.options ?? [];
  if (d.discriminator && data !== null && typeof data === 'object') {
    const tag = (data as Record<string, unknown>)[d.discriminator];
    const hit = options.find((o) => {
      const shape = def(unwrap(o)).shape;
      const lit = shape?.[d.discriminator!];
      return lit !== undefined && (def(lit) as { values?: unknown[] }).values?.includes(tag);
    });
    if (hit) return hit;
  }
  const kind = Array.isArray(data) ? 'array' : data !== null && typeof data === 'object' ? 'object' : undefined;
  if (kind === 'object') {
    const keys = Object.keys(data as object);
    const byKeys = options.find((o) => {
      const known = knownKeys(o);
      return known.length > 0 && keys.every((k) => known.includes(k));
    });
    if (byKeys) return byKeys;
  }
  return options.find((o) => {
    const t = def(unwrap(o)).type;
    return kind === undefined ? t !== 'object' && t !== 'array' && t !== 'record' : t === kind || (kind === 'object' && t === 'record');
  });
}

/** The schema describing the value at `path` inside `data` (which `schema` describes), if it can be found. */
export function schemaAt(schema: AnySchema, path: Path, data: unknown, resolveLastUnion = false): AnySchema | undefined {
  let cur: AnySchema | undefined = schema;
  let value = data;
  for (let i = 0; i <= path.length && cur; i++) {
    if (i === path.length && !resolveLastUnion) return cur;
    let d = def(unwrap(cur));
    while (d.type === 'union' && cur) {
      cur = chooseOption(d, value);
      if (!cur) return undefined;
      d = def(unwrap(cur));
    }
    if (i === path.length) return cur;
    const seg = path[i]!;
    if (d.type === 'object') cur = d.shape?.[String(seg)];
    else if (d.type === 'array') cur = d.element;
    else if (d.type === 'record') cur = d.valueType;
    else return undefined;
    value = valueAt(value, [seg]);
  }
  return cur;
}

/** The description of a schema, or of what it wraps (`.optional()` makes a new, undescribed schema). */
export function describe(s: AnySchema): string | undefined {
  return (s as unknown as { description?: string }).description ?? (unwrap(s) as unknown as { description?: string }).description;
}
