// Small in-memory CatalogState literals and policy models for the pure compile and plan stages (no database).
import { expect } from 'vitest';
import type {
  CatalogColumn,
  CatalogGrant,
  CatalogPolicy,
  CatalogRole,
  CatalogSchema,
  CatalogState,
  CatalogTable,
  CatalogTenant,
  CatalogView,
} from '../../../src/catalog/types.js';
import { grantSets } from '../../../src/catalog/grants.js';
import { compile, type CompileOptions } from '../../../src/compile/compile.js';
import { MANAGED_MARKER, type DesiredState } from '../../../src/compile/types.js';
import { scramVerifier } from '../../../src/pg/scram.js';
import { plan, policySpecs, type PlanOptions } from '../../../src/plan/plan.js';
import { renderPolicy, renderView } from '../../../src/plan/render.js';
import type { Plan } from '../../../src/plan/types.js';
import { checkPolicyText } from '../../../src/policy/check.js';
import type { Diagnostic } from '../../../src/policy/diagnostic.js';
import type { PolicyModel } from '../../../src/policy/model.js';

/** A table given as its column names, or with more detail. */
export interface TableSpec {
  readonly columns: readonly string[];
  readonly kind?: CatalogTable['kind'];
  readonly owner?: string;
  readonly rls?: boolean;
  /** `schema.name` or `name` (schema public). */
  readonly partitionOf?: string;
  readonly defaultSequences?: readonly string[];
}

export interface CatalogSpec {
  readonly database?: string;
  /** Key: `name` (schema public) or `schema.name`. */
  readonly tables?: Readonly<Record<string, readonly string[] | TableSpec>>;
  /** Extra schemas; every table's schema and `public` are always present. */
  readonly schemas?: readonly (string | CatalogSchema)[];
  readonly roles?: readonly (Partial<CatalogRole> & { readonly name: string })[];
  /** Tenant slugs in the registry; omit for a database without the registry migrations. */
  readonly registryTenants?: readonly string[] | undefined;
  readonly runtime?: CatalogState['runtime'];
  readonly policies?: readonly CatalogPolicy[];
  readonly views?: readonly CatalogView[];
  /** One by one; the catalog holds them as sets (grantSets). */
  readonly grants?: readonly CatalogGrant[];
}

const splitName = (key: string): { schema: string; name: string } => {
  const dot = key.indexOf('.');
  return dot < 0 ? { schema: 'public', name: key } : { schema: key.slice(0, dot), name: key.slice(dot + 1) };
};

export function column(name: string, attnum: number): CatalogColumn {
  return { name, type: 'text', notNull: false, hasDefault: false, identity: false, generated: false, attnum };
}

export function role(spec: Partial<CatalogRole> & { readonly name: string }): CatalogRole {
  return {
    login: false,
    superuser: false,
    bypassRls: false,
    createRole: false,
    inherit: true,
    connectionLimit: -1,
    memberOf: [],
    settings: [],
    ...spec,
  };
}

/** A role created by tenantctl (its comment starts with the managed marker). */
export function managedRole(spec: Partial<CatalogRole> & { readonly name: string }): CatalogRole {
  return role({ comment: `${MANAGED_MARKER}: test`, ...spec });
}

/** A deterministic UUID for the i-th tenant. */
export const tenantId = (i: number): string => `00000000-0000-4000-8000-${String(i + 1).padStart(12, '0')}`;

export function catalog(spec: CatalogSpec = {}): CatalogState {
  const tables: CatalogTable[] = Object.entries(spec.tables ?? {}).map(([key, value]) => {
    const t: TableSpec = Array.isArray(value) ? { columns: value as readonly string[] } : (value as TableSpec);
    const { schema, name } = splitName(key);
    return {
      schema,
      name,
      kind: t.kind ?? 'r',
      owner: t.owner ?? 'app_owner',
      rlsEnabled: t.rls ?? false,
      rlsForced: t.rls ?? false,
      ...(t.partitionOf === undefined ? {} : { partitionOf: splitName(t.partitionOf) }),
      columns: t.columns.map((c, i) => column(c, i + 1)),
      defaultSequences: t.defaultSequences ?? [],
    };
  });
  const schemaNames = new Set(['public', ...tables.map((t) => t.schema)]);
  const schemas: CatalogSchema[] = [...schemaNames].map((name) => ({ name, owner: 'app_owner' }));
  for (const s of spec.schemas ?? []) {
    const entry = typeof s === 'string' ? { name: s, owner: 'app_owner' } : s;
    if (!schemas.some((x) => x.name === entry.name)) schemas.push(entry);
  }
  const tenants: CatalogTenant[] | undefined = spec.registryTenants?.map((slug, i) => ({ id: tenantId(i), slug, status: 'active' }));
  return {
    serverVersionNum: 150018,
    database: spec.database ?? 'appdb',
    currentUser: 'postgres',
    tables,
    roles: (spec.roles ?? []).map(role),
    policies: spec.policies ?? [],
    views: spec.views ?? [],
    schemas,
    grants: grantSets(spec.grants ?? []),
    ...(spec.runtime === undefined ? {} : { runtime: spec.runtime }),
    ...(tenants === undefined ? {} : { registry: { schema: 'tenant_registry', version: 1, tenants } }),
  };
}

/** The demo-like tables most tests use. */
export const SHOP = {
  customers: ['id', 'org', 'name', 'ssn', 'credit_card'],
  orders: { columns: ['id', 'org', 'customer_id', 'total'], defaultSequences: ['public.orders_id_seq'] },
  products: ['id', 'org', 'name', 'cost_price', 'margin'],
} as const satisfies Record<string, readonly string[] | TableSpec>;

export const shop = (extra: Omit<CatalogSpec, 'tables'> & { tables?: CatalogSpec['tables'] } = {}): CatalogState =>
  catalog({ registryTenants: ['acme', 'globex'], ...extra, tables: { ...SHOP, ...(extra.tables ?? {}) } });

export const COMPILE_OPTIONS: CompileOptions = {
  registrySchema: 'tenant_registry',
  runtimeSql: 'SELECT 1 -- :registry',
  env: { PW: 'secret-pw' },
};

/** The model of a policy file that must be valid. */
export async function model(yaml: string): Promise<PolicyModel> {
  const result = await checkPolicyText(yaml);
  expect(result.errors.map(brief)).toEqual([]);
  return result.model as PolicyModel;
}

/** `LINE:COL: message (did you mean X)`. */
export function brief(d: Diagnostic): string {
  return `${d.line}:${d.column}: ${d.message}${d.suggestion === undefined ? '' : ` (did you mean ${d.suggestion})`}`;
}

/** Compile a file that must compile without errors. */
export async function desiredOf(yaml: string, cat: CatalogState = shop(), options: CompileOptions = COMPILE_OPTIONS): Promise<DesiredState> {
  const result = compile(await model(yaml), cat, options);
  expect(result.errors.map(brief)).toEqual([]);
  return result.desired as DesiredState;
}

/** Compile errors of a file that passes the policy stage. */
export async function compileErrors(yaml: string, cat: CatalogState = shop(), options: CompileOptions = COMPILE_OPTIONS): Promise<Diagnostic[]> {
  const result = compile(await model(yaml), cat, options);
  expect(result.desired).toBeUndefined();
  return [...result.errors];
}

export const FIXED_SCRAM = 'SCRAM-SHA-256$4096:c2FsdA==$a2V5:a2V5';
export const fixedScram = (): string => FIXED_SCRAM;

const COMMAND = { SELECT: 'r', INSERT: 'a', UPDATE: 'w', DELETE: 'd' } as const;

/**
 * The catalog as it would read right after applying `desired` to `base`: managed roles with their memberships,
 * settings and passwords, row security on, persona schemas, views, policies and grants, the principals rows, and
 * tenantctl.applied filled from the plan's own records (rendered from these catalog objects).
 */
export function appliedCatalog(desired: DesiredState, base: CatalogState): CatalogState {
  const governed = new Set(desired.governedTables.map((t) => `${t.schema}.${t.name}`));
  const roles: CatalogRole[] = desired.roles.map((r) =>
    role({
      name: r.name,
      login: r.login,
      connectionLimit: r.connectionLimit,
      memberOf: [...r.memberOf],
      settings: r.searchPath === undefined ? [] : [`search_path=${r.searchPath.replace(/^"(.*)"$/, '$1')}`],
      comment: r.comment,
      ...(r.password === undefined ? {} : { passwordVerifier: r.password.kind === 'verifier' ? r.password.verifier : scramVerifier(r.password.plaintext) }),
    }),
  );
  const schemas: CatalogSchema[] = [
    ...base.schemas,
    { name: 'tenantctl', owner: 'postgres', comment: `${MANAGED_MARKER}: runtime` },
    ...desired.personas.map((p) => ({ name: p.schema, owner: 'postgres', comment: `${MANAGED_MARKER}: views of persona ${p.id}` })),
  ];
  const views: CatalogView[] = [];
  const policies: CatalogPolicy[] = [];
  const grants: CatalogGrant[] = [];
  const g = (objectKind: CatalogGrant['objectKind'], schema: string, name: string, grantee: string, privilege: string, col?: string): CatalogGrant => ({
    objectKind,
    schema,
    name,
    grantee,
    privilege,
    grantable: false,
    grantor: 'postgres',
    ...(col === undefined ? {} : { column: col }),
  });
  for (const p of desired.personas) {
    grants.push(g('schema', p.schema, p.schema, p.reader, 'USAGE'));
    grants.push(g('schema', p.schema, p.schema, p.owner, 'CREATE'));
    for (const s of desired.schemas) grants.push(g('schema', s, s, p.owner, 'USAGE'));
    for (const ref of p.referenced) for (const c of ref.columns) grants.push(g('column', ref.table.schema, ref.table.name, p.owner, 'SELECT', c));
    for (const t of p.tables) {
      views.push({
        schema: p.schema,
        name: t.table.name,
        owner: p.owner,
        definition: ` SELECT ${t.columns.map((c) => c.name).join(', ')} FROM ${t.table.schema}.${t.table.name};`,
        options: [],
        columns: t.columns.map((c) => c.name),
        comment: `${MANAGED_MARKER}: view`,
      });
      for (const c of t.ownerSelect) grants.push(g('column', t.table.schema, t.table.name, p.owner, 'SELECT', c));
      for (const c of t.ownerWrite) {
        grants.push(g('column', t.table.schema, t.table.name, p.owner, 'INSERT', c));
        grants.push(g('column', t.table.schema, t.table.name, p.owner, 'UPDATE', c));
      }
      if (p.access === 'readwrite') grants.push(g('table', t.table.schema, t.table.name, p.owner, 'DELETE'));
      for (const seq of t.sequences) {
        const [schema, name] = seq.split('.') as [string, string];
        grants.push(g('sequence', schema, name, p.reader, 'USAGE'));
      }
      for (const priv of ['SELECT', ...(p.access === 'readwrite' ? ['INSERT', 'UPDATE', 'DELETE'] : [])]) grants.push(g('table', p.schema, t.table.name, p.reader, priv));
      for (const spec of policySpecs(p, t)) {
        policies.push({
          schema: spec.table.schema,
          table: spec.table.name,
          name: spec.name,
          command: COMMAND[spec.command],
          permissive: true,
          roles: [spec.role],
          ...(spec.using === undefined ? {} : { using: spec.using }),
          ...(spec.withCheck === undefined ? {} : { withCheck: spec.withCheck }),
        });
      }
    }
  }
  const objects: Omit<CatalogState, 'runtime'> = {
    ...base,
    tables: base.tables.map((t) => (governed.has(`${t.schema}.${t.name}`) ? { ...t, rlsEnabled: true, rlsForced: true } : t)),
    roles: [...base.roles, ...roles],
    schemas,
    views: [...base.views, ...views],
    policies: [...base.policies, ...policies],
    grants: [...base.grants, ...grantSets(grants)],
  };
  const records = plan(desired, objects, { prune: false, scram: fixedScram }).records;
  const applied: Record<string, { desired: string; rendered: string }> = {};
  for (const r of records) {
    let rendered: string;
    if (r.render.kind === 'value') rendered = r.render.value;
    else if (r.render.kind === 'runtime') rendered = APPLIED_RUNTIME_STATE;
    else if (r.render.kind === 'view') {
      const { schema, name } = r.render;
      rendered = renderView(views.find((v) => v.schema === schema && v.name === name) as CatalogView);
    } else {
      const { schema, table, name } = r.render;
      rendered = renderPolicy(policies.find((p) => p.schema === schema && p.table === table && p.name === name) as CatalogPolicy);
    }
    applied[r.object] = { desired: r.desired, rendered };
  }
  return {
    ...objects,
    runtime: {
      principals: desired.principals.map((p) => ({ role: p.role, kind: p.kind, ...(p.tenant === null ? {} : { tenant: p.tenant }), attributes: p.attributes, context: p.context })),
      applied,
      state: APPLIED_RUNTIME_STATE,
    },
  };
}

/** The runtime schema of an applied catalog (RUNTIME_STATE_SQL's shape), recorded and read alike. */
export const APPLIED_RUNTIME_STATE = JSON.stringify({
  major: 15,
  owner: 'admin',
  acl: [['admin', 'CREATE', false], ['admin', 'USAGE', false], ['public', 'USAGE', false]],
  relations: [
    { name: 'applied', kind: 'r', owner: 'admin', rls: false, force: false, acl: [['admin', 'SELECT', false]], columns: [], policies: [], triggers: [] },
    {
      name: 'principals', kind: 'r', owner: 'admin', rls: true, force: true, acl: [['admin', 'SELECT', false], ['public', 'SELECT', false]], columns: [],
      policies: [{ name: 'own_row', command: 'r', permissive: true, roles: ['public'], using: '(role = SESSION_USER)', withCheck: null }],
      triggers: [],
    },
  ],
  functions: [{ name: 'visible', arguments: '', kind: 'f', owner: 'admin', acl: [['admin', 'EXECUTE', false], ['public', 'EXECUTE', false]], definition: 'CREATE OR REPLACE FUNCTION tenantctl.visible() RETURNS boolean LANGUAGE sql AS $$ SELECT false $$' }],
});

export function planOf(desired: DesiredState, cat: CatalogState, options: Partial<PlanOptions> = {}): Plan {
  return plan(desired, cat, { prune: false, scram: fixedScram, ...options });
}
