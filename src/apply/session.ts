// The one transaction of `plan` and `apply`: pinned search_path (so expressions and renderings resolve the
// same way every time), the catalog read, compile and plan. apply then runs the steps in the same transaction.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TransactionSql } from 'postgres';
import { readCatalog } from '../catalog/read.js';
import type { CatalogState } from '../catalog/types.js';
import { compile } from '../compile/compile.js';
import type { CompileResult, DesiredState } from '../compile/types.js';
import { ident } from '../pg/quote.js';
import type { PolicyModel } from '../policy/model.js';
import { plan as makePlan, type PlanOptions } from '../plan/plan.js';
import type { Plan } from '../plan/types.js';

const RUNTIME_SQL = new URL('../../sql/runtime.sql', import.meta.url);
let runtimeSql: string | undefined;

/** sql/runtime.sql, shipped in the package next to dist/ and src/. */
export function runtimeSqlText(): string {
  return (runtimeSql ??= readFileSync(RUNTIME_SQL, 'utf8'));
}

export class RegistryMissingError extends Error {
  override name = 'RegistryMissingError';
}

export interface SessionOptions {
  registrySchema: string;
  env: Readonly<Record<string, string | undefined>>;
  plan: PlanOptions;
}

export type SessionResult =
  | { kind: 'invalid'; compiled: CompileResult; catalog: CatalogState }
  | { kind: 'planned'; desired: DesiredState; plan: Plan; catalog: CatalogState; warnings: CompileResult['warnings'] };

/**
 * search_path = the governed schemas, for everything in the transaction (SET LOCAL); and no JIT compilation.
 * The catalog's queries are cheap to run but estimated dear (per-relation subqueries over thousands of
 * relations): past jit_above_cost, PostgreSQL spent 0.7 s compiling the tables query that then ran in 0.1 s
 * (500 tables, 2,000 views). Nothing tenantctl runs in this transaction scans enough rows for JIT to pay.
 */
export async function pinSearchPath(tx: TransactionSql, schemas: readonly string[]): Promise<void> {
  await Promise.all([tx.unsafe(`SET LOCAL search_path TO ${schemas.map(ident).join(', ')}`), tx.unsafe('SET LOCAL jit = off')]);
}

export async function planInTransaction(tx: TransactionSql, model: PolicyModel, options: SessionOptions): Promise<SessionResult> {
  const schemas = model.schemas.map((s) => s.name);
  await pinSearchPath(tx, schemas);
  const catalog = await readCatalog(tx, { schemas, registrySchema: options.registrySchema });
  if (!catalog.registry) {
    throw new RegistryMissingError(
      `the tenant registry is not installed in schema "${options.registrySchema}" of database ${catalog.database}: run \`tenantctl migrate up\` first`,
    );
  }
  const compiled = compile(model, catalog, { registrySchema: options.registrySchema, runtimeSql: runtimeSqlText(), env: options.env });
  if (!compiled.desired) return { kind: 'invalid', compiled, catalog };
  return { kind: 'planned', desired: compiled.desired, plan: makePlan(compiled.desired, catalog, options.plan), catalog, warnings: compiled.warnings };
}

/** A stable hash of what a plan runs (as displayed: no secrets). */
export function planHash(plan: Plan): string {
  return createHash('sha256').update(plan.steps.flatMap((s) => s.display).join(';\n')).digest('hex');
}
