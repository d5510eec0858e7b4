// One differential case end to end: a fresh database with the generated schema, data and tenants, the
// generated policy file applied by the built CLI, then every user logs in over TCP with its password and reads
// every table; what it reads is compared with the reference evaluator. Any difference throws an Error that
// prints the whole case (policy file, schema, data, tenants) and expected against actual.
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import postgres from 'postgres';
import { ident, literal } from '../../src/pg/quote.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { adminUrl, freshDatabase, type TestDatabase } from '../helpers/db.js';
import { migrateRegistry, policyFile } from '../helpers/demo.js';
import { appSettings, dataSql, materialise, PASSWORD, PASSWORD_ENV, policyYaml, rawCase, schemaSql, tenantsSql, type Case, type RawCase, type UserDef, type Value } from './generate.js';
import { expectation, type TableView, type WriteOutcome, type WriteProbe } from './reference.js';

export interface CaseResult {
  /** applied and compared, or refused as the reference expected. */
  readonly outcome: 'compared' | 'refused';
  readonly reads: number;
  /** Reads that returned rows, and reads of a table that does not exist for the user (42P01). */
  readonly withRows: number;
  readonly absent: number;
  /** Write probes tried (each rolled back), and how many of them changed rows. */
  readonly writes: number;
  readonly wrote: number;
}

type Actual = { exists: false } | { exists: true; columns: string[]; rows: Value[][] } | { error: string };

const norm = (v: unknown): Value => (v === null || v === undefined ? null : typeof v === 'boolean' ? v : typeof v === 'number' || typeof v === 'bigint' ? String(v) : String(v));
const sortRows = (rows: readonly (readonly Value[])[]): Value[][] =>
  rows.map((r) => r.map(norm)).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : JSON.stringify(a) > JSON.stringify(b) ? 1 : 0));

function describeCase(c: Case, yaml: string): string {
  return [
    '--- policies.yaml',
    yaml.trimEnd(),
    '--- schema.sql',
    schemaSql(c),
    dataSql(c),
    tenantsSql(c),
  ].join('\n');
}

function show(v: TableView | Actual): string {
  if ('error' in v) return `error: ${v.error}`;
  if (!v.exists) return 'table does not exist (42P01)';
  return `columns ${JSON.stringify(v.columns)}\n      rows ${sortRows(v.rows).map((r) => JSON.stringify(r)).join('\n           ') || '(none)'}`;
}

function same(expected: TableView, actual: Actual): boolean {
  if ('error' in actual) return false;
  if (!expected.exists || !actual.exists) return expected.exists === actual.exists;
  return JSON.stringify(expected.columns) === JSON.stringify(actual.columns) && JSON.stringify(sortRows(expected.rows)) === JSON.stringify(sortRows(actual.rows));
}

/**
 * An app sets its context in each transaction, as the README tells pools to: `set_config(name, value, true)`
 * right after BEGIN. Users need nothing.
 */
async function begin(session: postgres.Sql, user: UserDef): Promise<void> {
  await session.unsafe('BEGIN');
  for (const [setting, value] of appSettings(user)) await session.unsafe(`SELECT set_config(${literal(setting)}, ${literal(value)}, true)`);
}

async function read(session: postgres.Sql, user: UserDef, table: string): Promise<Actual> {
  if (user.kind === 'app') await begin(session, user);
  try {
    const result = await session.unsafe(`SELECT * FROM ${ident(table)}`);
    const columns = result.columns.map((col) => col.name);
    return { exists: true, columns, rows: result.map((r) => columns.map((col) => r[col] as Value)) };
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === '42P01') return { exists: false };
    return { error: `${err.message} (SQLSTATE ${err.code ?? '?'})` };
  } finally {
    if (user.kind === 'app') await session.unsafe('ROLLBACK');
  }
}

function probeSql(table: string, probe: WriteProbe): string {
  const t = ident(table);
  switch (probe.kind) {
    case 'delete':
      return `DELETE FROM ${t}`;
    case 'update-same':
      return `UPDATE ${t} SET ${ident(probe.column)} = ${ident(probe.column)}`;
    case 'update-org':
      return `UPDATE ${t} SET org = 'other-org'`;
    case 'update-masked':
      return `UPDATE ${t} SET ${ident(probe.column)} = NULL`;
    case 'insert': {
      const cols = Object.keys(probe.row);
      return `INSERT INTO ${t} (${cols.map(ident).join(', ')}) VALUES (${cols.map((col) => literal(probe.row[col] ?? null)).join(', ')})`;
    }
  }
}

/** One write in its own transaction, always rolled back: the rows it affected, or its SQLSTATE. */
async function write(session: postgres.Sql, user: UserDef, sql: string): Promise<WriteOutcome & { message?: string }> {
  await begin(session, user);
  try {
    return { count: (await session.unsafe(sql)).count };
  } catch (e) {
    const err = e as { code?: string; message: string };
    return { code: err.code ?? '?', message: err.message };
  } finally {
    await session.unsafe('ROLLBACK');
  }
}

const showWrite = (o: WriteOutcome & { message?: string }): string => ('count' in o ? `${o.count} row(s)` : `error ${o.code}${o.message ? ` (${o.message})` : ''}`);

/**
 * `tenantctl apply FILE --yes` as a child process, as a user runs it. Other work rebuilds dist/ in this tree
 * while a long run goes on: when the CLI cannot even load (a module error, not an `error:` of its own), wait
 * and run it again.
 */
async function applyCli(file: string, url: string): Promise<CliResult> {
  for (let attempt = 1; ; attempt++) {
    const r = await runCli(['apply', file, '--yes'], { env: { DATABASE_URL: url, [PASSWORD_ENV]: PASSWORD } });
    const broken = r.code !== 0 && /^(SyntaxError|Error \[ERR_MODULE_NOT_FOUND\]|node:internal)|\n(SyntaxError|Error \[ERR_MODULE_NOT_FOUND\]): /m.test(r.stderr) && !/^error: /m.test(r.stderr);
    if (!broken || attempt >= 60) return r;
    await new Promise((resolve) => setTimeout(resolve, 5_000));
  }
}

/**
 * The same command through the CLI's own entry point, `main(argv)` (src/cli/main.ts), in this process: the
 * same parsing, validation, plan, apply and messages, without starting Node and loading every module again
 * (about 1 s of CPU per case, most of a case's cost on 2 CPUs). The environment, stdout, stderr and
 * process.exitCode are swapped for the call and restored; cases run one at a time, so nothing else sees them.
 */
async function applyInProcess(file: string, url: string): Promise<CliResult> {
  const { main } = await import('../../src/cli/main.js');
  const saved = { env: process.env, out: process.stdout.write, err: process.stderr.write, exitCode: process.exitCode };
  let stdout = '';
  let stderr = '';
  process.env = { PATH: saved.env['PATH'], HOME: saved.env['HOME'], NO_COLOR: '1', DATABASE_URL: url, [PASSWORD_ENV]: PASSWORD };
  process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
  process.exitCode = undefined;
  try {
    const code = await main(['node', 'tenantctl', 'apply', file, '--yes']);
    return { code, stdout, stderr };
  } finally {
    process.env = saved.env;
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exitCode = saved.exitCode;
  }
}

/** `cli` (a child process per case, the default) or `in-process` (FUZZ_APPLY=in-process; `npm run fuzz`). */
export type ApplyMode = 'cli' | 'in-process';

/** Run one case; throws, with the case printed, on any difference from the reference. */
export async function runCase(c: Case, mode: ApplyMode = 'cli'): Promise<CaseResult> {
  const yaml = policyYaml(c);
  const expected = expectation(c);
  const db = await freshDatabase('fz');
  const sessions: postgres.Sql[] = [];
  try {
    await db.sql.unsafe(schemaSql(c) + '\n' + dataSql(c));
    await migrateRegistry(db.url);
    await db.sql.unsafe(tenantsSql(c));
    const r = await (mode === 'cli' ? applyCli : applyInProcess)(policyFile(yaml), db.url);
    const why = expected.reasons.map((x) => `  - ${x.why}`).join('\n');
    if (expected.outcome === 'rejected') {
      const unmatched = expected.reasons.filter((x) => x.message && !x.message.test(r.stderr));
      if (r.code === 1 && unmatched.length < expected.reasons.length) return { outcome: 'refused', reads: 0, withRows: 0, absent: 0, writes: 0, wrote: 0 };
      throw new Error(`apply should have refused the file (exit 1) because:\n${why}\nbut exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${describeCase(c, yaml)}`);
    }
    if (expected.outcome === 'either' && r.code === 1) return { outcome: 'refused', reads: 0, withRows: 0, absent: 0, writes: 0, wrote: 0 };
    if (r.code !== 0) throw new Error(`apply failed (exit ${r.code}) on a file the reference accepts:\n${r.stderr}\n${describeCase(c, yaml)}`);

    const differences: string[] = [];
    let reads = 0;
    let withRows = 0;
    let absent = 0;
    let writes = 0;
    let wrote = 0;
    for (const user of c.users) {
      const session = postgres(db.urlFor(user.name, PASSWORD), { max: 1, onnotice: () => {}, connect_timeout: 10 });
      sessions.push(session);
      for (const t of c.tables) {
        const want = expected.views.get(user.name)!.get(t.name)!;
        const got = await read(session, user, t.name);
        reads++;
        if ('exists' in got && got.exists && got.rows.length > 0) withRows++;
        if ('exists' in got && !got.exists) absent++;
        if (!same(want, got)) differences.push(`user ${user.name}, table ${t.name}:\n  expected ${show(want)}\n  actual   ${show(got)}`);
      }
      // Rule 6, after every read of this user: each write in a transaction of its own, rolled back.
      for (const t of c.tables) {
        for (const w of expected.writes.get(user.name)!.get(t.name)!) {
          const sql = probeSql(t.name, w.probe);
          const got = await write(session, user, sql);
          writes++;
          if ('count' in got && got.count > 0) wrote++;
          const ok = w.expect.some((e) => ('count' in e ? 'count' in got && got.count === e.count : 'code' in got && got.code === e.code));
          if (!ok) differences.push(`user ${user.name} (${user.access}), ${sql}:\n  expected ${w.expect.map(showWrite).join(' or ')}: ${w.why}\n  actual   ${showWrite(got)}`);
        }
      }
    }
    if (differences.length > 0) {
      throw new Error(`${differences.length} difference(s) from the reference:\n${differences.join('\n')}\n${why ? `notes:\n${why}\n` : ''}${describeCase(c, yaml)}`);
    }
    return { outcome: 'compared', reads, withRows, absent, writes, wrote };
  } finally {
    await Promise.all(sessions.map((s) => s.end({ timeout: 5 })));
    await disposeDatabase(db, [...c.users.map((u) => u.name), ...c.roles]);
  }
}

/**
 * Drop a case's database and its roles (cluster-wide): the given logins and group roles, and the persona roles
 * (`tenantctl_<id>_owner|_reader`) whose schemas are in that database, read before it is dropped.
 */
export async function disposeDatabase(db: TestDatabase, roles: readonly string[]): Promise<void> {
  let personas: string[] = [];
  try {
    personas = (await db.sql<{ nspname: string }[]>`SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tenantctl\\_%'`).map((r) => r.nspname);
  } finally {
    await db.drop();
  }
  const admin = postgres(adminUrl(), { max: 1, onnotice: () => {} });
  try {
    for (const role of [...roles, ...personas.flatMap((s) => [`${s}_reader`, `${s}_owner`])]) await admin.unsafe(`DROP ROLE IF EXISTS ${ident(role)}`);
  } finally {
    await admin.end();
  }
}

/** A fresh per-execution tag: role names are cluster-wide, and other test files run at the same time. */
export const newTag = (): string => randomBytes(3).toString('hex');

export interface FuzzOptions {
  readonly runs: number;
  readonly seed: number;
  /**
   * Shrinking budget (ms) after the first failure: every shrink step is a full case against the server, so
   * past it the remaining candidates are passed without running and the smallest failure so far is reported.
   */
  readonly shrinkBudgetMs?: number;
  readonly onCase?: (result: CaseResult, raw: RawCase) => void;
  /** fast-check's replay path of a reported failure (with its seed): runs that case, then its shrinking. */
  readonly path?: string;
  readonly apply?: ApplyMode;
}

export interface FuzzCounts {
  compared: number;
  refused: number;
  reads: number;
  shrinkSteps: number;
  withRows: number;
  absent: number;
  writes: number;
  wrote: number;
}

/** The property: every generated case agrees with the reference. Rejects with fast-check's report (shrunk case). */
export async function fuzz(options: FuzzOptions): Promise<FuzzCounts> {
  const counts: FuzzCounts = { compared: 0, refused: 0, reads: 0, shrinkSteps: 0, withRows: 0, absent: 0, writes: 0, wrote: 0 };
  let failedAt: number | undefined;
  await fc.assert(
    fc.asyncProperty(rawCase, async (raw: RawCase) => {
      if (failedAt !== undefined) {
        if (Date.now() - failedAt > (options.shrinkBudgetMs ?? Infinity)) return;
        counts.shrinkSteps++;
      }
      try {
        const result = await runCase(materialise(raw, newTag()), options.apply);
        if (failedAt === undefined) {
          counts[result.outcome]++;
          counts.reads += result.reads;
          counts.withRows += result.withRows;
          counts.absent += result.absent;
          counts.writes += result.writes;
          counts.wrote += result.wrote;
          options.onCase?.(result, raw);
        }
      } catch (e) {
        failedAt ??= Date.now();
        throw e;
      }
    }),
    { numRuns: options.runs, seed: options.seed, endOnFailure: false, ...(options.path ? { path: options.path } : {}) },
  );
  return counts;
}
