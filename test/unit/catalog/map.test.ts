// The row mappers: optional fields present only when set, in the same place; lists sorted and unique; columns
// in attnum order whatever order they arrive in; applied records sorted by object.
import { describe, expect, test } from 'vitest';
import { mapColumns, mapPolicies, mapRoles, mapRuntime, mapSchemas, mapTables, mapViews, type RawColumn, type TableRow } from '../../../src/catalog/map.js';

const col = (name: string, attnum: number): RawColumn => [name, 'text', false, false, false, false, attnum];
const mappedCol = (name: string, attnum: number) => ({ name, type: 'text', notNull: false, hasDefault: false, identity: false, generated: false, attnum });

const tableRow = (over: Partial<TableRow>): TableRow => ({
  schema: 'public',
  name: 't',
  kind: 'r',
  owner: 'o',
  rls_enabled: false,
  rls_forced: false,
  parent_schema: null,
  parent_name: null,
  columns: null,
  default_sequences: null,
  comment: null,
  ...over,
});

describe('catalog mappers', () => {
  test('tables: sorted by schema and name; partitionOf and comment only when set, in their places; sequences sorted, each once', () => {
    const tables = mapTables([
      tableRow({ name: 'b', comment: 'hello', default_sequences: ['s2', 's1', 's2'], columns: [col('y', 2), col('x', 1)] }),
      tableRow({ schema: 'A', name: 'p1', parent_schema: 'A', parent_name: 'p' }),
      tableRow({ name: 'a', columns: [col('x', 1), col('y', 2)] }),
    ]);
    expect(tables.map((t) => `${t.schema}.${t.name}`)).toEqual(['A.p1', 'public.a', 'public.b']);
    expect(Object.keys(tables[0]!)).toEqual(['schema', 'name', 'kind', 'owner', 'rlsEnabled', 'rlsForced', 'partitionOf', 'columns', 'defaultSequences']);
    expect(Object.keys(tables[2]!)).toEqual(['schema', 'name', 'kind', 'owner', 'rlsEnabled', 'rlsForced', 'columns', 'defaultSequences', 'comment']);
    expect(tables[0]).toStrictEqual({ schema: 'A', name: 'p1', kind: 'r', owner: 'o', rlsEnabled: false, rlsForced: false, partitionOf: { schema: 'A', name: 'p' }, columns: [], defaultSequences: [] });
    expect(tables[2]?.defaultSequences).toEqual(['s1', 's2']);
    expect(tables[2]?.columns.map((c) => c.name)).toEqual(['x', 'y']);
    expect(tables[1]?.columns.map((c) => c.name)).toEqual(['x', 'y']);
  });

  test('columns: attnum order, in order or not; new objects, only the column fields', () => {
    const raw = [col('b', 2), col('a', 1), col('c', 3)];
    const mapped = mapColumns(raw);
    expect(mapped.map((c) => c.name)).toEqual(['a', 'b', 'c']);
    expect(mapped[1]).toStrictEqual(mappedCol('b', 2));
    expect(raw.map((c) => c[0])).toEqual(['b', 'a', 'c']);
    const inOrder = [col('a', 1), col('b', 2)];
    expect(mapColumns(inOrder)).toStrictEqual([mappedCol('a', 1), mappedCol('b', 2)]);
    expect(mapColumns(null)).toEqual([]);
  });

  test('policies: using and withCheck only when set, last', () => {
    const [a, b] = mapPolicies([
      { schema: 's', table: 't', name: 'b', command: 'w', permissive: true, roles: ['r2', 'r1'], using: 'x', with_check: 'y', fingerprint: 'f' },
      { schema: 's', table: 't', name: 'a', command: 'a', permissive: false, roles: null, using: null, with_check: 'y', fingerprint: 'f' },
    ]);
    expect(a).toStrictEqual({ schema: 's', table: 't', name: 'a', command: 'a', permissive: false, roles: [], withCheck: 'y' });
    expect(b).toStrictEqual({ schema: 's', table: 't', name: 'b', command: 'w', permissive: true, roles: ['r1', 'r2'], using: 'x', withCheck: 'y' });
    expect(Object.keys(b!)).toEqual(['schema', 'table', 'name', 'command', 'permissive', 'roles', 'using', 'withCheck']);
  });

  test('roles, views, schemas: optional fields only when set', () => {
    const [r] = mapRoles([
      { name: 'r', login: true, superuser: false, bypass_rls: false, create_role: false, inherit: true, connection_limit: 3, member_of: ['b', 'a', 'b'], settings: null, comment: 'c', password_verifier: 'v' },
    ]);
    expect(r).toStrictEqual({ name: 'r', login: true, superuser: false, bypassRls: false, createRole: false, inherit: true, connectionLimit: 3, memberOf: ['a', 'b'], settings: [], passwordVerifier: 'v', comment: 'c' });
    const [v] = mapViews([{ schema: 's', name: 'v', owner: 'o', definition: 'd', options: ['b=1', 'a=1'], columns: ['z', 'y'], comment: null, fingerprint: 'f' }]);
    expect(v).toStrictEqual({ schema: 's', name: 'v', owner: 'o', definition: 'd', options: ['a=1', 'b=1'], columns: ['z', 'y'] });
    expect(mapSchemas([{ name: 'b', owner: 'o', comment: null }, { name: 'a', owner: 'o', comment: 'x' }])).toStrictEqual([
      { name: 'a', owner: 'o', comment: 'x' },
      { name: 'b', owner: 'o' },
    ]);
  });

  test('runtime: applied records by object, in object order; fingerprint only when recorded', () => {
    const runtime = mapRuntime({
      principals: [{ role: 'b', kind: 'user', tenant: null, attributes: null, context: null }, { role: 'a', kind: 'app', tenant: 't', attributes: { x: 1 }, context: {} }],
      applied: [
        { object: 'view s.v', desired: 'd2', rendered: 'r2', fingerprint: null },
        { object: 'policy s.t p', desired: 'd1', rendered: 'r1', fingerprint: 'f1' },
      ],
    });
    expect(Object.keys(runtime.applied)).toEqual(['policy s.t p', 'view s.v']);
    expect(runtime.applied['policy s.t p']).toStrictEqual({ desired: 'd1', rendered: 'r1', fingerprint: 'f1' });
    expect(runtime.applied['view s.v']).toStrictEqual({ desired: 'd2', rendered: 'r2' });
    expect(runtime.principals.map((p) => p.role)).toEqual(['a', 'b']);
  });
});
