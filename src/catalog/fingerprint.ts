// A fingerprint of everything a plan reads from the catalog: the sha256 of what each statement of readCatalog
// returns, computed by the server (the results are 8.6 MB at 500 tables; only 9 hashes cross the wire).
//
// The statements are readCatalog's own (catalogQueries), each wrapped as is, with the same parameters and in the
// same transaction settings (search_path, which the renderings depend on), and META_SQL's row (server version,
// database, current user, which tables exist) is part of it. Equal fingerprints therefore mean that readCatalog
// would return the same CatalogState; any difference, including rows in another order, gives another
// fingerprint. Each row is hashed in its text form (record_out), which quotes every column: injective.
import { createHash } from 'node:crypto';
import { catalogQueries, query, readMeta, type Executor, type ReadCatalogOptions } from './read.js';

const HASHED = (text: string): string => `
SELECT pg_catalog.count(*) AS n,
       pg_catalog.encode(pg_catalog.sha256(pg_catalog.convert_to(COALESCE(pg_catalog.string_agg(x::text, E'\\n'), ''), 'UTF8')), 'hex') AS h
  FROM (${text}) AS x`;

/**
 * Runs `work` in a second transaction that sees the snapshot of the first (SET TRANSACTION SNAPSHOT), with the
 * same settings: the statements are shared between two server processes.
 */
export type Alongside = <T>(work: (sql: Executor) => Promise<T>) => Promise<T>;

/** The statements `alongside` runs: about half of the server's time (at 500 tables: 0.25 of 0.5 s). */
const ALONGSIDE = new Set(['grants', 'policies', 'principals']);

export async function catalogFingerprint(sql: Executor, options: ReadCatalogOptions, alongside?: Alongside): Promise<string> {
  const meta = await readMeta(sql, options.registrySchema);
  const queries = Object.entries(catalogQueries(meta, options));
  const hash = (on: Executor, [name, q]: (typeof queries)[number]): Promise<readonly [string, string | undefined, string | undefined]> =>
    query<{ n: string; h: string }>(on, HASHED(q.text), [...q.params]).then(([row]) => [name, row?.n, row?.h] as const);
  // `alongside` first: what it sends on this connection (the snapshot's export) must not queue behind the rest.
  const there = alongside ? alongside((other) => Promise.all(queries.filter(([name]) => ALONGSIDE.has(name)).map((q) => hash(other, q)))) : Promise.resolve([]);
  const here = Promise.all(queries.filter(([name]) => !alongside || !ALONGSIDE.has(name)).map((q) => hash(sql, q)));
  const done = new Map((await Promise.all([here, there])).flat().map((p) => [p[0], p] as const));
  // In the statements' order, whichever process ran them.
  const parts = queries.map(([name]) => done.get(name));
  return createHash('sha256').update(JSON.stringify({ meta, parts })).digest('hex');
}
