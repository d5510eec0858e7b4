// From schema-checked data to the PolicyModel: defaults filled, names unified, expressions parsed, positions kept.
import { error, type Diagnostic, type SourcePos } from './diagnostic.js';
import { analyseExpression } from './expression.js';
import { positionAt, scalarCharPositions, type Path } from './locate.js';
import type { PolicySource } from './load.js';
import {
  BUILTIN_ATTRIBUTES,
  type AppDef,
  type Assignment,
  type Attribute,
  type AttributeType,
  type AttributeValue,
  type ContextSetting,
  type Expression,
  type NameRef,
  type PasswordSource,
  type Policy,
  type PolicyModel,
  type PrincipalSelector,
  type TableRef,
  type UserDef,
} from './model.js';
import type { PolicyData, PolicyFileData, TargetData } from './schema.js';

export interface NormaliseResult {
  readonly model: PolicyModel;
  readonly diagnostics: readonly Diagnostic[];
}

export function attributeTypeOf(value: AttributeValue): AttributeType {
  if (Array.isArray(value)) return 'text[]';
  if (typeof value === 'number') return 'bigint';
  if (typeof value === 'boolean') return 'boolean';
  return 'text';
}

export function normalise(source: PolicySource, data: PolicyFileData): NormaliseResult {
  const diagnostics: Diagnostic[] = [];
  const at = (path: Path, part: 'key' | 'value' = 'value') => positionAt(source, path, part);
  const ref = (name: string, path: Path): NameRef => ({ name, pos: at(path) });

  const users: UserDef[] = data.users.map((u, i) => {
    const path = ['users', i];
    const attributes: Attribute[] = Object.entries(u.attributes ?? {}).map(([name, value]) => ({
      name,
      value,
      type: attributeTypeOf(value),
      pos: at([...path, 'attributes', name], 'key'),
    }));
    return {
      kind: 'user',
      name: u.name,
      pos: at([...path, 'name']),
      ...(u.password ? { password: password(u.password, at([...path, 'password'])) } : {}),
      ...(u.tenant !== undefined ? { tenant: ref(u.tenant, [...path, 'tenant']) } : {}),
      attributes,
      roles: (u.roles ?? []).map((r, j) => ref(r, [...path, 'roles', j])),
      access: u.access,
      ...(u.connection_limit !== undefined ? { connectionLimit: u.connection_limit } : {}),
    };
  });

  // Attribute types: built-ins, then the first user declaring each attribute, then apps' declared types.
  const attributeTypes: Record<string, AttributeType> = { ...BUILTIN_ATTRIBUTES };
  for (const u of users) for (const a of u.attributes) attributeTypes[a.name] ??= a.type;
  for (const app of data.apps) {
    for (const [attribute, entry] of Object.entries(app.context ?? {})) {
      if (typeof entry !== 'string' && entry.type) attributeTypes[attribute] ??= entry.type;
    }
  }
  for (const app of data.apps) for (const attribute of Object.keys(app.context ?? {})) attributeTypes[attribute] ??= 'text';

  const apps: AppDef[] = data.apps.map((a, i) => {
    const path = ['apps', i];
    const context: ContextSetting[] = Object.entries(a.context ?? {}).map(([attribute, entry]) => {
      const entryPath = [...path, 'context', attribute];
      const setting = typeof entry === 'string' ? entry : entry.setting;
      const type = (typeof entry === 'string' ? undefined : entry.type) ?? attributeTypes[attribute] ?? 'text';
      return { attribute, setting, type, pos: at(typeof entry === 'string' ? entryPath : [...entryPath, 'setting']) };
    });
    return {
      kind: 'app',
      name: a.name,
      pos: at([...path, 'name']),
      ...(a.password ? { password: password(a.password, at([...path, 'password'])) } : {}),
      context,
      access: a.access,
      ...(a.connection_limit !== undefined ? { connectionLimit: a.connection_limit } : {}),
    };
  });

  const expression = (text: string, path: Path): Expression => {
    const analysis = analyseExpression(text);
    const charPos = scalarCharPositions(source, path);
    const posAt = (offset: number) => charPos[Math.min(offset, charPos.length - 1)] ?? at(path);
    return {
      text,
      pos: at(path),
      templates: analysis.templates.map((t) => ({ ...t, type: attributeTypes[t.attribute] ?? 'text', pos: posAt(t.start) })),
      parsedText: analysis.parsedText,
      columns: analysis.columns,
      relations: analysis.relations,
      functions: analysis.functions,
      problems: analysis.problems,
      equalities: analysis.equalities,
      charPos,
    };
  };

  const tableRef = (text: string, path: Path): TableRef | undefined => {
    const parts = text.split('.');
    const glob = /[*?]/.test(text);
    const bad = (message: string) => {
      diagnostics.push(error(at(path), message));
      return undefined;
    };
    if (parts.length > 2 || parts.some((p) => p === '')) return bad(`\`${text}\` is not a table name; write name, schema.name, or a glob such as raw_*`);
    const name = parts[parts.length - 1]!;
    const schema = parts.length === 2 ? parts[0] : undefined;
    if (schema !== undefined && /[*?]/.test(schema)) return bad(`\`${text}\`: globs may match table names only, not schemas`);
    return { ...(schema !== undefined ? { schema } : {}), name, glob, pos: at(path) };
  };

  const policies: Policy[] = data.policies.map((p, i) => normalisePolicy(p, ['policies', i]));

  function normalisePolicy(p: PolicyData, path: Path): Policy {
    let tables: TableRef[] = [];
    if (p.table !== undefined && p.tables !== undefined) {
      diagnostics.push(error(at([...path, 'tables'], 'key'), `policy \`${p.name}\` has both \`table\` and \`tables\`; use one`));
    } else if (p.table !== undefined) {
      tables = [tableRef(p.table, [...path, 'table'])].filter((t): t is TableRef => t !== undefined);
    } else if (p.tables !== undefined) {
      tables = p.tables.map((t, j) => tableRef(t, [...path, 'tables', j])).filter((t): t is TableRef => t !== undefined);
    } else {
      diagnostics.push(error(at(path), `policy \`${p.name}\` has no \`${p.type === 'column_mask' || p.type === 'column_deny' ? 'table' : 'tables'}\``));
    }
    const allowRefs = (p.allow_refs ?? []).map((t, j) => tableRef(t, [...path, 'allow_refs', j])).filter((t): t is TableRef => t !== undefined);
    const base = {
      name: p.name,
      pos: at([...path, 'name']),
      ...(p.description !== undefined ? { description: p.description } : {}),
      tables,
      allowRefs,
    };
    switch (p.type) {
      case 'row_filter':
        return { ...base, type: p.type, filter: expression(p.filter, [...path, 'filter']) };
      case 'column_mask':
        return { ...base, type: p.type, column: ref(p.column, [...path, 'column']), mask: expression(p.mask, [...path, 'mask']) };
      case 'column_deny':
        return { ...base, type: p.type, columns: p.columns.map((c, j) => ref(c, [...path, 'columns', j])) };
      case 'column_allow': {
        const list = p.columns ?? ['*'];
        if (list.includes('*') && list.length > 1) {
          diagnostics.push(error(at([...path, 'columns']), '`*` (all columns) cannot be combined with column names'));
        }
        const columns = list.includes('*') ? ('all' as const) : list.map((c, j) => ref(c, [...path, 'columns', j]));
        return { ...base, type: p.type, columns };
      }
      case 'table_deny':
        return { ...base, type: p.type };
    }
  }

  const selectors = (target: TargetData | undefined, path: Path): PrincipalSelector[] => {
    if (target === undefined) return [];
    const one = (t: Exclude<TargetData, readonly unknown[]>, p: Path): PrincipalSelector => {
      if (t === 'all') return { kind: 'all', pos: at(p) };
      if ('user' in t) return { kind: 'user', name: t.user, pos: at([...p, 'user']) };
      if ('app' in t) return { kind: 'app', name: t.app, pos: at([...p, 'app']) };
      return { kind: 'role', name: t.role, pos: at([...p, 'role']) };
    };
    return Array.isArray(target) ? target.map((t, j) => one(t, [...path, j])) : [one(target as Exclude<TargetData, readonly unknown[]>, path)];
  };

  const assignments: Assignment[] = data.assignments.map((a, i) => {
    const path = ['assignments', i];
    return {
      index: i,
      policy: a.policy,
      pos: at([...path, 'policy']),
      to: selectors(a.to, [...path, 'to']),
      except: selectors(a.except, [...path, 'except']),
      priority: a.priority,
    };
  });

  const model: PolicyModel = {
    file: source.file,
    version: 1,
    mode: data.mode,
    schemas: data.schemas.map((s, i) => ref(s, ['schemas', i])),
    roles: data.roles.map((r, i) => ({
      kind: 'role',
      name: r.name,
      pos: at(['roles', i, 'name']),
      ...(r.description !== undefined ? { description: r.description } : {}),
    })),
    users,
    apps,
    policies,
    assignments,
    attributeTypes,
  };
  return { model, diagnostics };
}

function password(p: { env: string } | { scram: string } | { value: string }, pos: SourcePos): PasswordSource {
  if ('env' in p) return { kind: 'env', variable: p.env, pos };
  if ('scram' in p) return { kind: 'scram', verifier: p.scram, pos };
  return { kind: 'value', value: p.value, pos };
}
