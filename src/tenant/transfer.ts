// tenant export / import: every governed row of one tenant as a COPY-framed text stream with a manifest.
//
// Stream (UTF-8 text, PostgreSQL COPY text format, as pg_dump writes table data):
//   -- tenantctl tenant export, format 1
//   COPY "public"."organizations" ("name", "created_at") FROM stdin;
//   acme	2025-01-01 00:00:00+00
//   \.
//   ... one section per scoped table, parents first ...
//   -- manifest: {"format":"tenantctl-export","version":1,"tenant":{...},"tables":[{"table","columns","rows","sha256"}],"sha256":...}
// Each table's sha256 is over its data lines (each ending in \n); the manifest's sha256 is over every byte
// before the manifest line. Rows are ordered by primary key (else by every column), so two exports of the same
// rows are byte-identical apart from exported_at.
import { createHash } from 'node:crypto';
import type { Writable } from 'node:stream';
import { ident, qualified } from '../pg/quote.js';
import { recordAudit } from '../registry/audit.js';
import type { Executor } from '../registry/db.js';
import { getTenant, TenantError, type TenantRow } from './common.js';
import { requireBypass, tenantPredicate, tenantScope, type ScopedTable, type TenantScope } from './scope.js';

export const HEADER = '-- tenantctl tenant export, format 1\n';
const MANIFEST_PREFIX = '-- manifest: ';

export interface ManifestTable {
  table: string;
  columns: string[];
  rows: number;
  sha256: string;
}

export interface Manifest {
  format: 'tenantctl-export';
  version: 1;
  tenant: { id: string; slug: string; name: string };
  database: string;
  exported_at: string;
  tables: ManifestTable[];
  rows: number;
  sha256: string;
}

type CopySource = { unsafe: (q: string) => { readable(): Promise<AsyncIterable<Buffer>> } };

async function orderBy(tx: Executor, table: ScopedTable): Promise<string> {
  const pk = (await tx.unsafe(
    `SELECT a.attname::text AS name FROM pg_catalog.pg_index i, pg_catalog.unnest(i.indkey) WITH ORDINALITY k(att, n)
       JOIN pg_catalog.pg_attribute a ON a.attnum = k.att
      WHERE i.indisprimary AND i.indrelid = $1::regclass AND a.attrelid = i.indrelid ORDER BY k.n`,
    [qualified(table.schema, table.name)],
  )) as unknown as { name: string }[];
  const cols = pk.length > 0 ? pk.map((c) => c.name) : exportColumns(table);
  return cols.map((c) => `x.${ident(c)}`).join(', ');
}

function exportColumns(table: ScopedTable): string[] {
  return table.columns.filter((c) => !c.generated).map((c) => c.name);
}

/**
 * Writes to `output` with its backpressure, and fails from the first write that fails: a reader that went away
 * (`| head`, a pipe into a command that died) or a full disk makes the export an error, never a success with a
 * truncated stream. The write callback is what tells: process.stdout on a pipe reports EPIPE there (and emits
 * 'error'), and emits no 'drain' after it. `last` waits for the chunk itself to be written.
 */
function writer(output: Writable): (chunk: string | Buffer, last?: boolean) => Promise<void> {
  let failed: Error | undefined;
  const closed = (e: Error): TenantError =>
    new TenantError(`the output failed before the export was complete (${(e as NodeJS.ErrnoException).code ?? e.message}): what was written has no manifest, so tenant import refuses it`);
  return async (chunk, last = false) => {
    if (failed) throw closed(failed);
    await new Promise<void>((resolve, reject) => {
      // The callback always runs after write() has returned (Writable defers it), so `more` is set by then.
      const more = output.write(chunk, (e) => {
        if (e) {
          failed ??= e;
          reject(closed(e));
        } else if (last || !more) resolve();
      });
      if (more && !last) resolve();
    });
  };
}

/** Write the export to `output`; returns the manifest. One audit row (tenant.export) in the caller's transaction. */
export async function exportTenant(tx: Executor, schema: string, slug: string, output: Writable, tenantColumn?: string): Promise<Manifest> {
  const t = await getTenant(tx, schema, slug);
  await requireBypass(tx, 'tenant export');
  const scope = await tenantScope(tx, { registrySchema: schema, ...(tenantColumn !== undefined ? { tenantColumn } : {}) });
  const whole = createHash('sha256');
  const send = writer(output);
  const write = async (text: string | Buffer): Promise<void> => {
    whole.update(text);
    await send(text);
  };
  await write(HEADER);
  const tables: ManifestTable[] = [];
  for (const table of scope.tables) {
    const columns = exportColumns(table);
    const list = columns.map(ident).join(', ');
    await write(`COPY ${qualified(table.schema, table.name)} (${list}) FROM stdin;\n`);
    const h = createHash('sha256');
    let rows = 0;
    const query = `COPY (SELECT ${columns.map((c) => `x.${ident(c)}`).join(', ')} FROM ${qualified(table.schema, table.name)} x WHERE ${tenantPredicate(scope, table, 'x', t)} ORDER BY ${await orderBy(tx, table)}) TO STDOUT`;
    for await (const chunk of await (tx as unknown as CopySource).unsafe(query).readable()) {
      const b = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
      h.update(b);
      for (const byte of b) if (byte === 0x0a) rows++;
      await write(b);
    }
    await write('\\.\n');
    tables.push({ table: table.key, columns, rows, sha256: h.digest('hex') });
  }
  const db = ((await tx.unsafe(`SELECT current_database()::text AS d`)) as unknown as { d: string }[])[0]?.d as string;
  const manifest: Manifest = {
    format: 'tenantctl-export',
    version: 1,
    tenant: { id: t.id, slug: t.slug, name: t.name },
    database: db,
    exported_at: new Date().toISOString(),
    tables,
    rows: tables.reduce((a, x) => a + x.rows, 0),
    sha256: whole.digest('hex'),
  };
  // Awaited to the end: the export succeeds only once its manifest, its last line, is out.
  await send(MANIFEST_PREFIX + JSON.stringify(manifest) + '\n', true);
  await recordAudit(tx, schema, {
    action: 'tenant.export',
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: t.id,
    metadata: { rows: manifest.rows, tables: tables.length, sha256: manifest.sha256 },
  });
  return manifest;
}

export interface ParsedExport {
  manifest: Manifest;
  sections: { table: string; columns: string[]; data: Buffer }[];
}

/** Check the framing, the manifest and every checksum; nothing is sent to the database. */
export function parseExport(stream: Buffer): ParsedExport {
  const bad = (why: string): never => {
    throw new TenantError(`not a valid tenantctl export: ${why}; nothing was imported`);
  };
  if (stream.length === 0) bad('the input is empty');
  if (!stream.subarray(0, HEADER.length).equals(Buffer.from(HEADER))) bad('it does not start with the tenantctl export header');
  const end = stream.lastIndexOf(Buffer.from('\n' + MANIFEST_PREFIX));
  if (end < 0) bad('the manifest line is missing (truncated stream?)');
  const body = stream.subarray(0, end + 1);
  const manifestText = stream.subarray(end + 1 + MANIFEST_PREFIX.length).toString('utf8').replace(/\n$/, '');
  let manifest: Manifest;
  try {
    manifest = JSON.parse(manifestText) as Manifest;
  } catch {
    return bad('the manifest is not valid JSON');
  }
  if (manifest.format !== 'tenantctl-export' || manifest.version !== 1 || !Array.isArray(manifest.tables) || typeof manifest.tenant?.slug !== 'string') {
    bad('the manifest is not a tenantctl export manifest, format 1');
  }
  if (createHash('sha256').update(body).digest('hex') !== manifest.sha256) bad('the checksum of the stream does not match its manifest (corrupted or edited)');
  const sections: ParsedExport['sections'] = [];
  let pos = HEADER.length;
  for (const mt of manifest.tables) {
    const nl = body.indexOf(0x0a, pos);
    const line = nl < 0 ? '' : body.subarray(pos, nl).toString('utf8');
    const expect = `COPY ${mt.table.split('.').map((p) => ident(p)).join('.')} (${mt.columns.map(ident).join(', ')}) FROM stdin;`;
    if (line !== expect) bad(`expected the section of ${mt.table} at byte ${pos}`);
    const start = nl + 1;
    const term = start < body.length && body.subarray(start, start + 3).toString() === '\\.\n' ? start : body.indexOf('\n\\.\n', start - 1);
    if (term < 0) bad(`the section of ${mt.table} is not terminated`);
    const data = term === start ? Buffer.alloc(0) : body.subarray(start, term + 1);
    const rows = data.reduce((a, b) => a + (b === 0x0a ? 1 : 0), 0);
    if (rows !== mt.rows) bad(`${mt.table} has ${rows} rows, its manifest says ${mt.rows}`);
    if (createHash('sha256').update(data).digest('hex') !== mt.sha256) bad(`the checksum of ${mt.table} does not match its manifest`);
    sections.push({ table: mt.table, columns: mt.columns, data });
    pos = (term === start ? start : term + 1) + 3;
  }
  if (pos !== body.length) bad('unexpected data after the last table section');
  return { manifest, sections };
}

export interface ImportReport {
  tenant: string;
  tables: { table: string; rows: number }[];
  rows: number;
  dryRun: boolean;
}

type CopyTarget = { unsafe: (q: string) => { writable(): Promise<Writable> } };

async function countRows(tx: Executor, scope: TenantScope, table: ScopedTable, t: TenantRow): Promise<number> {
  const r = (await tx.unsafe(`SELECT count(*)::bigint::text AS n FROM ${qualified(table.schema, table.name)} x WHERE ${tenantPredicate(scope, table, 'x', t)}`)) as unknown as { n: string }[];
  return Number(r[0]?.n ?? 0);
}

/**
 * Validate (framing, checksums, tenant, tables and columns still exist, the tenant has no rows yet) and load in
 * the caller's transaction; after loading, every table must hold exactly the manifest's rows for this tenant, so a
 * stream carrying another tenant's rows fails. The caller rolls back for --dry-run.
 */
export async function importTenant(tx: Executor, schema: string, slug: string, stream: Buffer, options: { dryRun: boolean; tenantColumn?: string }): Promise<ImportReport> {
  const parsed = parseExport(stream);
  const t = await getTenant(tx, schema, slug, true);
  const m = parsed.manifest;
  if (m.tenant.slug !== slug) throw new TenantError(`the stream is an export of tenant "${m.tenant.slug}", not "${slug}"; nothing was imported`);
  if (m.tenant.id !== t.id) {
    throw new TenantError(`the stream is an export of tenant "${slug}" with id ${m.tenant.id}, but the registry's "${slug}" has id ${t.id}; nothing was imported`);
  }
  await requireBypass(tx, 'tenant import');
  const scope = await tenantScope(tx, { registrySchema: schema, ...(options.tenantColumn !== undefined ? { tenantColumn: options.tenantColumn } : {}) });
  const byKey = new Map(scope.tables.map((x) => [x.key, x] as const));
  for (const s of parsed.sections) {
    const table = byKey.get(s.table);
    if (!table) throw new TenantError(`table ${s.table} of the stream is not a governed table of this tenant here; nothing was imported`);
    const missing = s.columns.filter((c) => !table.columns.some((x) => x.name === c && !x.generated));
    if (missing.length > 0) throw new TenantError(`table ${s.table} has no column ${missing.join(', ')} any more; nothing was imported`);
  }
  for (const table of scope.tables) {
    const n = await countRows(tx, scope, table, t);
    if (n > 0) throw new TenantError(`tenant "${slug}" still has ${n} rows in ${table.key}: import loads into an empty tenant (purge it first); nothing was imported`);
  }
  // Parents before children: the stream is written in that order, but follow this database's order.
  const order = scope.tables.map((x) => x.key);
  const sections = [...parsed.sections].sort((a, b) => order.indexOf(a.table) - order.indexOf(b.table));
  const tables: ImportReport['tables'] = [];
  for (const s of sections) {
    const table = byKey.get(s.table) as ScopedTable;
    if (s.data.length > 0) {
      const w = await (tx as unknown as CopyTarget).unsafe(`COPY ${qualified(table.schema, table.name)} (${s.columns.map(ident).join(', ')}) FROM STDIN`).writable();
      await new Promise<void>((resolve, reject) => {
        w.on('error', reject);
        w.on('finish', () => resolve());
        w.end(s.data);
      });
    }
    tables.push({ table: s.table, rows: s.data.reduce((a, b) => a + (b === 0x0a ? 1 : 0), 0) });
  }
  for (const s of tables) {
    const n = await countRows(tx, scope, byKey.get(s.table) as ScopedTable, t);
    if (n !== s.rows) {
      throw new TenantError(`${s.table}: the stream holds ${s.rows} rows but only ${n} belong to tenant "${slug}" (rows of another tenant?); nothing was imported`);
    }
  }
  const rows = tables.reduce((a, x) => a + x.rows, 0);
  await recordAudit(tx, schema, {
    action: 'tenant.import',
    targetType: 'tenant',
    targetId: t.id,
    targetName: t.slug,
    tenantId: t.id,
    metadata: { rows, tables: tables.length, sha256: m.sha256, exported_at: m.exported_at, dry_run: options.dryRun },
  });
  return { tenant: slug, tables, rows, dryRun: options.dryRun };
}
