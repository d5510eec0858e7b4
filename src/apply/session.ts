// The one transaction of `plan` and `apply`: pinned search_path (so expressions and renderings resolve the
// same way every time), the catalog read, compile and plan. apply then runs the steps in the same transaction.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { TransactionSql } from 'postgres';
import { readCatalog, readRecordedSchemas } from '../catalog/read.js';
import { RegistryMissingError } from './errors.js';
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

/**
 * Read the catalog, compile and plan. `model` may still be on its way (the file checked on another thread, as
 * `tenantctl plan` does): the catalog is then read at once for the schemas the last apply recorded, and read
 * again only when the file governs other schemas. The catalog read is most of the server's share of a plan,
 * and the file's check most of the client's: this way they overlap. A model that never comes (the file has
 * errors) rejects, and so does this, having read but not used the catalog.
 */
export async function planInTransaction(tx: TransactionSql, model: PolicyModel | Promise<PolicyModel>, options: SessionOptions): Promise<SessionResult> {
  // Nothing here needs the SQL parser: the file's expressions were parsed when it was checked (for plan, on
  // another thread), and compile reads what that found.
  const { catalog, model: m } = await readCatalogFor(tx, model, options.registrySchema);
  if (!catalog.registry) {
    throw new RegistryMissingError(
      `the tenant registry is not installed in schema "${options.registrySchema}" of database ${catalog.database}: run \`tenantctl migrate up\` first`,
    );
  }
  const compiled = compile(m, catalog, { registrySchema: options.registrySchema, runtimeSql: runtimeSqlText(), env: options.env });
  if (!compiled.desired) return { kind: 'invalid', compiled, catalog };
  return { kind: 'planned', desired: compiled.desired, plan: makePlan(compiled.desired, catalog, options.plan), catalog, warnings: compiled.warnings };
}

async function readCatalogFor(
  tx: TransactionSql,
  model: PolicyModel | Promise<PolicyModel>,
  registrySchema: string,
): Promise<{ catalog: CatalogState; model: PolicyModel }> {
  let early: { schemas: readonly string[]; catalog: Promise<CatalogState> } | undefined;
  if (model instanceof Promise) {
    // Awaited below, after the first queries: a model that fails meanwhile is not an unhandled rejection.
    model.catch(() => {});
    const guess = await readRecordedSchemas(tx);
    if (guess) {
      await pinSearchPath(tx, guess);
      early = { schemas: guess, catalog: readCatalog(tx, { schemas: guess, registrySchema }) };
      // Not awaited before the model is: a failed read must not count as unhandled meanwhile (it is awaited below).
      early.catalog.catch(() => {});
    }
  }
  const m = await model;
  const schemas = m.schemas.map((s) => s.name);
  if (early && sameList(early.schemas, schemas)) return { catalog: await early.catalog, model: m };
  if (early) await early.catalog;
  await pinSearchPath(tx, schemas);
  return { catalog: await readCatalog(tx, { schemas, registrySchema }), model: m };
}

const sameList = (a: readonly string[], b: readonly string[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/** A stable hash of what a plan runs (as displayed: no secrets). */
export function planHash(plan: Plan): string {
  return createHash('sha256').update(plan.steps.flatMap((s) => s.display).join(';\n')).digest('hex');
}
