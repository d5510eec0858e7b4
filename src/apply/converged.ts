// `No changes.` without comparing every object again, when nothing a plan reads has changed since an apply
// after which a plan had nothing to say.
//
// A plan is a function of what it reads: the policy file, tenantctl's code, its options, the environment
// variables the file takes passwords from, and the catalog (src/catalog/read.ts, in one snapshot). apply plans
// again once its steps have run, in its own transaction; when that plan is empty (no step, no note, no warning,
// and the file had no warning) it records a key of all of these in tenantctl.converged. A later plan whose key
// is the same would compute the same empty plan, so it prints that. Anything else (another file, another
// build, a password changed in the environment, a hand change, a new role anywhere in the cluster, another
// user running the plan) changes the key, and the plan compares every object as usual: a stale record costs
// the time of the fingerprint (about a third of a full plan's server time), never a wrong answer.
//
// The record is trusted as tenantctl.applied is (same owner, same privileges): whoever may rewrite it may also
// change the schema it guards. A change to its privileges or owner is drift of the runtime schema, in the
// fingerprint like everything else.
import { createHash, randomBytes, scryptSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql, TransactionSql } from 'postgres';
import { catalogFingerprint, type Alongside } from '../catalog/fingerprint.js';
import { literal } from '../pg/quote.js';
import { arrayLiteral, query, RUNTIME_SCHEMA } from '../catalog/read.js';
import { principals } from '../policy/effective.js';
import type { PolicyModel } from '../policy/model.js';
import type { Plan } from '../plan/types.js';
import { pinSearchPath, planInTransaction, type SessionOptions } from './session.js';

const TABLE = `${RUNTIME_SCHEMA}.converged`;

let build: string | undefined;

/**
 * What identifies the code that plans: every module of this package as it runs (dist/, or src/ under the unit
 * tests), sql/runtime.sql, and package.json (the exact versions of the parser, the YAML reader and the validator
 * the file's check runs through). About 10 ms, once per process, and only when there is a record to compare with.
 */
export function buildIdentity(): string {
  if (build !== undefined) return build;
  const hash = createHash('sha256');
  const root = fileURLToPath(new URL('../', import.meta.url));
  const modules = (readdirSync(root, { recursive: true }) as string[]).filter((f) => /\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
  for (const f of modules) hash.update(`${f}\u0000`).update(readFileSync(join(root, f))).update('\u0000');
  for (const f of ['../../sql/runtime.sql', '../../package.json']) hash.update(`${f}\u0000`).update(readFileSync(new URL(f, import.meta.url)));
  return (build = hash.digest('hex'));
}

/** What a plan reads besides the catalog and the environment. */
export interface PlanInput {
  /** sha256 of the policy file's bytes. */
  readonly fileSha256: string;
  readonly prune: boolean;
  readonly registrySchema: string;
}

/** The key of a plan's input: the file, the build, the options. */
export function inputKey(input: PlanInput): string {
  return createHash('sha256')
    .update(JSON.stringify({ build: buildIdentity(), file: input.fileSha256, prune: input.prune, registry: input.registrySchema }))
    .digest('hex');
}

/** The environment variables the file takes passwords from, sorted. */
export function passwordVariables(model: PolicyModel): string[] {
  return [...new Set(principals(model).flatMap((p) => (p.password?.kind === 'env' ? [p.password.variable] : [])))].sort();
}

interface EnvRecord {
  readonly names: readonly string[];
  /** hex */
  readonly salt: string;
  /** hex: scrypt of the names and their values. */
  readonly hash: string;
}

/**
 * The values are passwords: recorded only as a salted scrypt (N = 2^14, about 40 ms), at least as dear to guess
 * from as the SCRAM verifiers PostgreSQL keeps of them.
 */
function envHash(names: readonly string[], env: Readonly<Record<string, string | undefined>>, salt: Buffer): string {
  const values = JSON.stringify(names.map((n) => [n, env[n] ?? null]));
  return scryptSync(values, salt, 32, { N: 1 << 14, r: 8, p: 1 }).toString('hex');
}

function envRecord(names: readonly string[], env: Readonly<Record<string, string | undefined>>): EnvRecord | null {
  if (names.length === 0) return null;
  const salt = randomBytes(16);
  return { names, salt: salt.toString('hex'), hash: envHash(names, env, salt) };
}

function envMatches(record: EnvRecord | null, env: Readonly<Record<string, string | undefined>>): boolean {
  if (record === null) return true;
  return envHash(record.names, env, Buffer.from(record.salt, 'hex')) === record.hash;
}

/** The recorded env column; undefined when it is not what recordConverged writes (then nothing matches). */
function parseEnv(text: string | null): EnvRecord | null | undefined {
  if (text === null) return null;
  try {
    const v = JSON.parse(text) as Partial<EnvRecord> | null;
    const ok =
      v !== null &&
      typeof v === 'object' &&
      Array.isArray(v.names) &&
      v.names.every((n) => typeof n === 'string') &&
      typeof v.salt === 'string' &&
      /^[0-9a-f]{32}$/.test(v.salt) &&
      typeof v.hash === 'string';
    return ok ? (v as EnvRecord) : undefined;
  } catch {
    return undefined;
  }
}

interface Row {
  input: string;
  schemas: string;
  env: string | null;
  catalog: string;
  recorded_at: Date | string;
}

/**
 * The record is of this input and of these password variables' values (its fingerprint aside). The input implies
 * the rest: the same file, options and tenantctl make the same schemas and name the same variables.
 */
function keyMatches(row: Row, input: string, env: Readonly<Record<string, string | undefined>>): boolean {
  if (row.input !== input) return false;
  const recordedEnv = parseEnv(row.env);
  return recordedEnv !== undefined && envMatches(recordedEnv, env);
}

async function recorded(tx: TransactionSql): Promise<Row | undefined> {
  const [exists] = await query<{ readable: boolean }>(
    tx,
    `SELECT pg_catalog.to_regclass('${TABLE}') IS NOT NULL AND pg_catalog.has_table_privilege('${TABLE}', 'SELECT') AS readable`,
    [],
  );
  if (!exists?.readable) return undefined;
  const [row] = await query<Row>(tx, `SELECT c.input, pg_catalog.to_json(c.schemas)::text AS schemas, c.env::text AS env, c.catalog, c.recorded_at FROM ${TABLE} c`, []);
  return row;
}

export interface Converged {
  /** When the apply that left the catalog this way recorded it. */
  readonly recordedAt: Date;
}

/**
 * In a plan's transaction (REPEATABLE READ), before anything else: is the catalog, with this input and this
 * environment, as the last converged apply left it? Pins search_path as the plan would (the fingerprint reads
 * what the plan reads, renderings included); a plan that goes on pins it again for its file's schemas.
 * `other`: a pool with a free connection, on which part of the fingerprint is computed at the same time, in a
 * transaction that imports this one's snapshot. `onMatch`: called when the record is of this input and
 * environment, before the fingerprint (the only part that takes time) is computed.
 */
export async function checkConverged(
  tx: TransactionSql,
  input: string,
  env: Readonly<Record<string, string | undefined>>,
  registrySchema: string,
  other?: Sql,
  onMatch?: () => void,
): Promise<Converged | undefined> {
  const row = await recorded(tx);
  if (row === undefined || !keyMatches(row, input, env)) return undefined;
  onMatch?.();
  const schemas = JSON.parse(row.schemas) as string[];
  await pinSearchPath(tx, schemas);
  const alongside: Alongside | undefined =
    other &&
    (async <T>(work: (sql: TransactionSql) => Promise<T>): Promise<T> => {
      const [exported] = await query<{ snapshot: string }>(tx, 'SELECT pg_catalog.pg_export_snapshot() AS snapshot', []);
      if (!exported) throw new Error('internal error: pg_export_snapshot() returned no row');
      const result = await other.begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (ty) => {
        await ty.unsafe(`SET TRANSACTION SNAPSHOT ${literal(exported.snapshot)}`);
        await pinSearchPath(ty, schemas);
        return [await work(ty)] as const;
      });
      return result[0] as T;
    });
  if ((await catalogFingerprint(tx, { schemas, registrySchema }, alongside)) !== row.catalog) return undefined;
  return { recordedAt: new Date(row.recorded_at) };
}

/** A plan with nothing to say: what `plan` prints as `No changes.` and nothing else. */
export function isQuiet(plan: Plan, warnings: number): boolean {
  return plan.steps.length === 0 && plan.notes.length === 0 && plan.errors.length === 0 && warnings === 0;
}

export interface ConvergedInput {
  /** inputKey() of the file and options the plan was made with. */
  readonly input: string;
  /** Warnings the file's check printed (a plan would print them again): any, and nothing is recorded. */
  readonly fileWarnings: number;
}

/**
 * In an apply's transaction, once its steps have run and are recorded: plan again; when that plan is quiet,
 * record the key (unless the record already says the same), else delete any record (the catalog it described
 * is gone). Returns whether the catalog is recorded as converged.
 * `quiet`: the plan already made in this state, when the caller has one (apply with nothing to change).
 */
export async function recordConverged(
  tx: TransactionSql,
  model: PolicyModel,
  options: SessionOptions,
  converged: ConvergedInput,
  quiet?: boolean,
): Promise<boolean> {
  let isConverged = quiet;
  if (isConverged === undefined) {
    const again = await planInTransaction(tx, model, options);
    isConverged = again.kind === 'planned' && isQuiet(again.plan, again.warnings.length);
  }
  if (!isConverged || converged.fileWarnings > 0) {
    await forgetConverged(tx);
    return false;
  }
  const schemas = model.schemas.map((s) => s.name);
  await pinSearchPath(tx, schemas);
  const catalog = await catalogFingerprint(tx, { schemas, registrySchema: options.registrySchema });
  const before = await recorded(tx);
  if (before && before.catalog === catalog && keyMatches(before, converged.input, options.env)) return true;
  const env = envRecord(passwordVariables(model), options.env);
  await tx.unsafe(
    `INSERT INTO ${TABLE} (only_row, input, schemas, env, catalog) VALUES (true, $1, $2::text::name[], $3::text::jsonb, $4)
     ON CONFLICT (only_row) DO UPDATE SET input = EXCLUDED.input, schemas = EXCLUDED.schemas, env = EXCLUDED.env, catalog = EXCLUDED.catalog, recorded_at = pg_catalog.now()`,
    [converged.input, arrayLiteral(schemas), env === null ? null : JSON.stringify(env), catalog],
  );
  return true;
}

/** The catalog changed and nothing says it converged: no record. */
export async function forgetConverged(tx: TransactionSql): Promise<void> {
  await tx.unsafe(`DELETE FROM ${TABLE}`);
}
