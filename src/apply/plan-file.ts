// `tenantctl plan FILE` between the command line and the database: the file is checked on another thread
// while the catalog is read; the converged record (converged.ts) answers when it matches, and every object is
// compared otherwise. The CLI supplies the check (it prints the file's diagnostics) and prints the outcome.
//
// Only Node's own modules are imported up front: the caller starts the file's check (a thread, which takes a
// while to start) through planFile() before the database side (postgres, the catalog, the compiler, the
// planner) is loaded, so that the two overlap.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { PolicyModel } from '../policy/model.js';
import type { SessionResult } from './session.js';

export const sha256Hex = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

export interface PlanFileOptions {
  readonly file: string;
  /**
   * The file's check: resolves to its model, rejects with its errors. Called at once, and again when a converged
   * record matched the file but not the catalog. Must reject with `signal.reason` once the signal aborts: the
   * check is stopped when the record matches, since its thread would take one of the two cores from the server
   * while it computes the catalog's fingerprint on two connections.
   */
  readonly check: (signal: AbortSignal) => Promise<PolicyModel>;
  readonly databaseUrl: string | undefined;
  readonly registrySchema: string;
  readonly prune: boolean;
  /** Compare every object even when a converged record matches. */
  readonly full: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export type PlanFileOutcome =
  /** The catalog is as the apply recorded at `recordedAt` left it, with the same input: `No changes.` */
  | { readonly kind: 'converged'; readonly recordedAt: Date }
  | SessionResult;

/**
 * Plan the file against the database. Errors come in the order a user needs them: the file's own errors
 * first (whatever the connection did meanwhile), and as soon as they are known, not when (or if) the server
 * answers; then the database's. The connection is closed before this returns or throws.
 */
export async function planFile(options: PlanFileOptions): Promise<PlanFileOutcome> {
  const STOPPED = new Error('stopped: the file is the one the converged apply checked');
  let abandon = new AbortController();
  const startCheck = (): Promise<PolicyModel> => {
    const checked = options.check(abandon.signal);
    checked.catch(() => {}); // awaited below; not an unhandled rejection while the connection is being made
    return checked;
  };
  let model = startCheck();
  // Unreadable: the file's check says why, and there is no converged record to look up.
  const bytes = ((): Buffer | undefined => {
    try {
      return readFileSync(options.file);
    } catch {
      return undefined;
    }
  })();
  // The database side's modules load while the thread runs.
  const [{ connect }, { planInTransaction }, { checkConverged, inputKey }] = await Promise.all([
    import('../pg/connect.js'),
    import('./session.js'),
    import('./converged.js'),
  ]);
  const input =
    options.full || bytes === undefined ? undefined : inputKey({ fileSha256: sha256Hex(bytes), prune: options.prune, registrySchema: options.registrySchema });
  let sql: ReturnType<typeof connect>;
  try {
    // Two connections: the second only shares the fingerprint of a converged check.
    sql = connect({ databaseUrl: options.databaseUrl, max: input === undefined ? 1 : 2, applicationName: 'tenantctl plan', fetchTypes: false });
  } catch (e) {
    await model;
    throw e;
  }
  type Hit = Awaited<ReturnType<typeof checkConverged>>;
  let settled: (hit: Hit) => void = () => {};
  const converged = new Promise<Hit>((resolve) => (settled = resolve));
  const planned = sql
    .begin('ISOLATION LEVEL REPEATABLE READ READ ONLY', async (tx) => {
      const hit = input === undefined ? undefined : await checkConverged(tx, input, options.env, options.registrySchema, sql, () => abandon.abort(STOPPED));
      settled(hit);
      if (hit) return undefined;
      if (abandon.signal.aborted) {
        // The record was of this file, the catalog is not as it left it: check the file after all.
        abandon = new AbortController();
        model = startCheck();
      }
      return planInTransaction(tx, model, { registrySchema: options.registrySchema, env: options.env, plan: { prune: options.prune } });
    })
    .catch((e: unknown) => {
      settled(undefined); // the error comes out of `planned`, after the file's
      throw e;
    });
  planned.catch(() => {}); // awaited below, after the model (whose errors come first)
  let answered = false;
  try {
    // The same file as an apply that left the catalog as it is has no errors: no need to wait for its check.
    const stopped = model.then(
      () => converged,
      (e: unknown) => (e === STOPPED ? converged : Promise.reject(e)),
    );
    const hit = await Promise.race([converged, stopped]);
    if (hit) {
      answered = true;
      return { kind: 'converged', recordedAt: hit.recordedAt };
    }
    await model;
    const result = await planned;
    answered = true;
    if (result === undefined) throw new Error('internal error: the converged check matched after it said it did not');
    return result;
  } finally {
    // Read only: a transaction still open here (the file had errors) has nothing to keep.
    await sql.end({ timeout: answered ? 5 : 0 });
  }
}
