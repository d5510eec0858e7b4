// Typed registry queries: kysely builds and compiles them, postgres.js runs them.
//
// kysely is used as a query builder only (DummyDriver): its postgres.js dialects need kysely >= 0.29,
// which needs a newer Node, and running the compiled SQL through the connection (or transaction) we
// already hold keeps one driver in the process and lets registry writes join the caller's transaction.
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, type Compilable } from 'kysely';
import type postgres from 'postgres';
import type { RegistryDatabase } from './types.js';

const builder = new Kysely<RegistryDatabase>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

/** A query builder whose table names resolve in the registry schema. */
export function registry(schema: string): Kysely<RegistryDatabase> {
  return builder.withSchema(schema);
}

/** Anything that can run SQL: a pool, a reserved connection or a transaction. */
export type Executor = Pick<postgres.Sql, 'unsafe'> | postgres.TransactionSql;

export async function run<R>(db: Executor, query: Compilable<R>): Promise<R[]> {
  const compiled = query.compile();
  const rows = await db.unsafe(compiled.sql, compiled.parameters as postgres.ParameterOrJSON<never>[]);
  return rows as unknown as R[];
}
