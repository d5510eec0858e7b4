// Run a plan: one transaction under an advisory lock, lock_timeout with bounded retries, the last-apply record
// and an audit row; all or nothing.
import type { TransactionSql } from 'postgres';
import { readRenderedObjects } from '../catalog/read.js';
import { acquireAdvisoryLock, applyLockKey } from '../pg/advisory-lock.js';
import type { Sql } from '../pg/connect.js';
import { isServerError, type ServerErrorFields } from '../pg/errors.js';
import { literal } from '../pg/quote.js';
import type { PolicyModel } from '../policy/model.js';
import { renderPolicy, renderView } from '../plan/render.js';
import { runtimeNotRestored } from '../plan/runtime.js';
import { summarize, type Plan, type Step } from '../plan/types.js';
import { LockTimeoutRetriesExhausted, StatementError } from './errors.js';
import { forgetConverged, isQuiet, recordConverged, type ConvergedInput } from './converged.js';
import { planHash, planInTransaction, type SessionOptions, type SessionResult } from './session.js';

export interface ApplyOptions extends SessionOptions {
  lockTimeoutMs: number;
  /** Attempts when a statement times out waiting for a table lock (then a clear failure). */
  attempts: number;
  /** Run everything, then roll back. */
  dryRun: boolean;
  /** sha256 of the policy file, for the audit row. */
  fileHash: string;
  fileName: string;
  /** Called with the plan before anything runs; resolve false to cancel (rolls back). */
  confirm: (result: Extract<SessionResult, { kind: 'planned' }>) => Promise<boolean>;
  /**
   * Record the catalog as converged (src/apply/converged.ts) when a plan made after the steps is quiet, so that
   * a plan of the same input can say `No changes.` from the record. Without it, nothing is recorded and any
   * earlier record is deleted once something was applied.
   */
  converged?: ConvergedInput;
  log?: (line: string) => void;
}

export type ApplyOutcome =
  | { kind: 'invalid'; result: Extract<SessionResult, { kind: 'invalid' }> }
  | { kind: 'refused'; result: Extract<SessionResult, { kind: 'planned' }> }
  | { kind: 'no-changes'; result: Extract<SessionResult, { kind: 'planned' }> }
  | { kind: 'cancelled'; result: Extract<SessionResult, { kind: 'planned' }> }
  | { kind: 'applied' | 'dry-run'; result: Extract<SessionResult, { kind: 'planned' }>; attempts: number };

class Rollback extends Error {
  constructor(readonly outcome: ApplyOutcome) {
    super('rollback');
  }
}

const LOCK_NOT_AVAILABLE = '55P03';
const UNIQUE_VIOLATION = '23505';
const DUPLICATE_OBJECT = '42710';
const RETRIED = new Set([LOCK_NOT_AVAILABLE, UNIQUE_VIOLATION, DUPLICATE_OBJECT]);
/** Two applies (in two databases of one cluster) altering the same login role at once: catalog row contention. */
const isConcurrentUpdate = (e: { code?: string; message: string }): boolean => e.code === 'XX000' && e.message === 'tuple concurrently updated';

export async function apply(sql: Sql, model: PolicyModel, options: ApplyOptions): Promise<ApplyOutcome> {
  let confirmed = false;
  for (let attempt = 1; ; attempt++) {
    try {
      return await sql.begin(async (tx) => {
        const [db] = await tx<{ name: string }[]>`SELECT current_database() AS name`;
        await acquireAdvisoryLock(tx as unknown as Sql, applyLockKey(db?.name ?? ''), {
          timeoutMs: options.lockTimeoutMs,
          scope: 'transaction',
          what: 'tenantctl apply on this database',
        });
        const result = await planInTransaction(tx, model, options);
        if (result.kind === 'invalid') throw new Rollback({ kind: 'invalid', result });
        if (result.plan.errors.length > 0) throw new Rollback({ kind: 'refused', result });
        if (result.plan.steps.length === 0) {
          // Nothing to apply, and a plan with nothing to say: the catalog is converged; recorded (committed) when
          // the record says otherwise, so that the next plan of this file can tell from it.
          if (options.converged && !options.dryRun && isQuiet(result.plan, result.warnings.length)) {
            await recordConverged(tx, model, options, options.converged, true);
            return { kind: 'no-changes', result } as ApplyOutcome;
          }
          throw new Rollback({ kind: 'no-changes', result });
        }
        // Ask once; a retry after a lock timeout re-plans but does not ask again unless the plan changed.
        if (!confirmed) {
          if (!(await options.confirm(result))) throw new Rollback({ kind: 'cancelled', result });
          confirmed = true;
        }
        await tx.unsafe(`SET LOCAL lock_timeout = ${literal(`${options.lockTimeoutMs}ms`)}`);
        await runStatements(tx, result.plan.steps);
        await recordApplied(tx, result.plan, model.schemas.map((s) => s.name), result.catalog.runtime?.applied ?? {});
        const summary = summarize(result.plan);
        // Loaded here, not at the top: the audit writer brings kysely (about 0.2 s of CPU to load), which
        // `tenantctl plan` (this module's other user, through planInTransaction) never needs.
        const { recordAudit } = await import('../registry/audit.js');
        await recordAudit(tx, options.registrySchema, {
          action: 'policy.apply',
          targetType: 'policy_file',
          targetId: options.fileHash,
          targetName: options.fileName,
          metadata: { plan_hash: planHash(result.plan), file_sha256: options.fileHash, steps: result.plan.steps.length, ...summary, dry_run: options.dryRun },
        });
        if (options.dryRun) throw new Rollback({ kind: 'dry-run', result, attempts: attempt });
        if (options.converged) await recordConverged(tx, model, options, options.converged);
        else await forgetConverged(tx);
        return { kind: 'applied', result, attempts: attempt } as ApplyOutcome;
      });
    } catch (e) {
      if (e instanceof Rollback) return e.outcome;
      // Roles are cluster-wide: an apply on another database of the same cluster may create the same login
      // role at the same moment. The loser's CREATE ROLE fails; a new attempt plans against the winner's role.
      if (isServerError(e) && (e.code === UNIQUE_VIOLATION || e.code === DUPLICATE_OBJECT || isConcurrentUpdate(e)) && attempt < options.attempts) {
        options.log?.(`${e.message}: another apply created it at the same time (attempt ${attempt} of ${options.attempts}); planning again`);
        continue;
      }
      if (isServerError(e) && e.code === LOCK_NOT_AVAILABLE) {
        if (attempt < options.attempts) {
          options.log?.(`a table lock was not granted within the lock timeout (attempt ${attempt} of ${options.attempts}); retrying`);
          await new Promise((r) => setTimeout(r, 200 * attempt));
          continue;
        }
        throw new LockTimeoutRetriesExhausted(
          `${e.message} after ${options.attempts} attempts (--lock-timeout ${options.lockTimeoutMs}ms): a long-running query holds a lock on a governed table. Nothing was changed; retry when it has finished.`,
        );
      }
      throw e;
    }
  }
}

interface PlannedStatement {
  readonly step: Step;
  /** Index into step.sql and step.display. */
  readonly index: number;
}

/** Statements per round trip, and text per round trip: a 500-table cold apply is ~24,000 statements. */
export const BATCH_STATEMENTS = 1000;
export const BATCH_BYTES = 1 << 20;

/** Consecutive runs of statements, in plan order, of at most `maxStatements` statements and about `maxBytes` of text. */
export function batches<T extends { readonly sql: string }>(items: readonly T[], maxStatements = BATCH_STATEMENTS, maxBytes = BATCH_BYTES): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length >= maxStatements || bytes + item.sql.length > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.sql.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

const serverFailure = (e: unknown): e is Error & ServerErrorFields => isServerError(e) && !RETRIED.has(e.code ?? '') && !isConcurrentUpdate(e);

async function runOne(tx: TransactionSql, { step, index }: PlannedStatement): Promise<void> {
  await tx.unsafe(step.sql[index]!).catch((e: unknown) => {
    throw serverFailure(e) ? new StatementError(step.object, step.display[index] ?? '', e) : e;
  });
}

const BATCH_SAVEPOINT = 'tenantctl_batch';

/**
 * Every statement of the plan, in order, many per round trip: one simple-query message holds a batch (the
 * server runs its statements one after the other, each seeing the ones before). A batch runs inside a
 * savepoint, so that when one of its statements fails the batch is rolled back to its start and run again
 * statement by statement, to name the failing statement exactly as a one-by-one run would. Errors that make
 * the whole apply retry (lock timeout, a concurrent CREATE ROLE) are rethrown as they are.
 */
async function runStatements(tx: TransactionSql, steps: readonly Step[]): Promise<void> {
  const statements = steps.flatMap((step) => step.sql.map((sql, index) => ({ step, index, sql })));
  for (const batch of batches(statements)) {
    if (batch.length === 1) {
      await runOne(tx, batch[0]!);
      continue;
    }
    // "\n;\n": a statement's trailing `--` comment ends at the newline, before the separator.
    const text = [`SAVEPOINT ${BATCH_SAVEPOINT}`, ...batch.map((s) => s.sql), `RELEASE SAVEPOINT ${BATCH_SAVEPOINT}`].join('\n;\n');
    try {
      await tx.unsafe(text);
    } catch (e) {
      if (!serverFailure(e)) throw e;
      await tx.unsafe(`ROLLBACK TO SAVEPOINT ${BATCH_SAVEPOINT}`);
      for (const statement of batch) await runOne(tx, statement);
      // Not reproduced one by one: name the batch.
      const first = batch[0]!.step.object;
      const last = batch[batch.length - 1]!.step.object;
      throw new StatementError(first === last ? first : `${first} ... ${last}`, `(one of ${batch.length} statements)`, e);
    }
  }
}

/**
 * Make tenantctl.applied hold exactly the plan's records, writing only what differs from what it held when this
 * transaction read it (`before`): it is written after the DDL, under the ACCESS EXCLUSIVE locks the DDL took,
 * and holds two rows per login, so rewriting every row made the locks last longer as logins accumulated
 * (≈0.3 s at 1,250 logins, BENCHMARKS.md section 3). `applied_at` is now when that object was last written.
 */
async function recordApplied(
  tx: TransactionSql,
  plan: Plan,
  schemas: readonly string[],
  before: Readonly<Record<string, { readonly desired: string; readonly rendered: string; readonly fingerprint?: string }>>,
): Promise<void> {
  const catalog = await readRenderedObjects(tx, schemas);
  const policies = new Map<string, (typeof catalog.policies)[number]>(catalog.policies.map((p) => [`${p.schema}\u0000${p.table}\u0000${p.name}`, p]));
  const views = new Map<string, (typeof catalog.views)[number]>(catalog.views.map((v) => [`${v.schema}\u0000${v.name}`, v]));
  const rows = plan.records.map((r) => {
    let rendered: string | undefined;
    let fingerprint: string | null = null;
    if (r.render.kind === 'value') rendered = r.render.value;
    else if (r.render.kind === 'runtime') {
      rendered = catalog.runtimeState;
      const was = before[r.object];
      // The same sql/runtime.sql as the record's: the plan put back what was changed by hand, and recording a
      // state that still differs would make the next plan accept it.
      const problem = was?.desired === r.desired && rendered !== undefined ? runtimeNotRestored(was.rendered, rendered) : undefined;
      if (problem !== undefined) throw new Error(problem);
    } else if (r.render.kind === 'policy') {
      const { schema, table, name } = r.render;
      const key = `${schema}\u0000${table}\u0000${name}`;
      const p = policies.get(key);
      rendered = p && renderPolicy(p);
      fingerprint = catalog.policyFingerprints.get(key) ?? null;
    } else {
      const { schema, name } = r.render;
      const key = `${schema}\u0000${name}`;
      const v = views.get(key);
      rendered = v && renderView(v);
      fingerprint = catalog.viewFingerprints.get(key) ?? null;
    }
    if (rendered === undefined) throw new Error(`internal error: ${r.object} is missing right after apply`);
    return { object: r.object, desired: r.desired, rendered, fingerprint };
  });
  const wanted = new Set(rows.map((r) => r.object));
  const gone = Object.keys(before).filter((object) => !wanted.has(object));
  const changed = rows.filter((r) => {
    const was = before[r.object];
    return was?.desired !== r.desired || was.rendered !== r.rendered || (was.fingerprint ?? null) !== r.fingerprint;
  });
  if (gone.length > 0) await tx`DELETE FROM tenantctl.applied WHERE object = ANY(${gone}::text[])`;
  if (changed.length > 0) {
    await tx`INSERT INTO tenantctl.applied ${tx(changed, 'object', 'desired', 'rendered', 'fingerprint')}
             ON CONFLICT (object) DO UPDATE SET desired = EXCLUDED.desired, rendered = EXCLUDED.rendered, fingerprint = EXCLUDED.fingerprint, applied_at = now()`;
  }
}
