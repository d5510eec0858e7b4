// Pooled application roles (tenant from a transaction-local setting), typed attributes, open mode,
// column_allow and table_deny, connection limits, and partitions: against a real server.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../helpers/db.js';
import { freshDatabase } from '../helpers/db.js';
import { migrateRegistry, policyFile } from '../helpers/demo.js';
import { runCli } from '../helpers/cli.js';

const SCHEMA = `
CREATE TABLE accounts (
  id bigserial PRIMARY KEY,
  tenant_id uuid NOT NULL,
  org text NOT NULL,
  region text NOT NULL,
  team text NOT NULL,
  level int NOT NULL,
  secret text
);
CREATE INDEX ON accounts (tenant_id);
CREATE TABLE audit_trail (id bigserial PRIMARY KEY, org text NOT NULL, note text);
CREATE TABLE events (id bigint NOT NULL, org text NOT NULL, at date NOT NULL) PARTITION BY RANGE (at);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 PARTITION OF events FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
`;

let db: TestDatabase;
let ids: Record<string, string>;
const sx = (n: string): string => `${n}_${db.name.slice(-6)}`;
const sessions: postgres.Sql[] = [];
function login(user: string, password: string): postgres.Sql {
  const s = postgres(db.urlFor(user, password), { max: 1, onnotice: () => {} });
  sessions.push(s);
  return s;
}

function policies(): string {
  return `version: 1
mode: policy_required
schemas: [public]
users:
  - name: ${sx('erin')}
    password: { value: "erin-pw" }
    tenant: acme
    attributes: { region: eu, level: 2, teams: [red, blue], senior: true }
    connection_limit: 3
  - name: ${sx('frank')}
    password: { value: "frank-pw" }
    tenant: globex
    attributes: { region: us, level: 1, teams: [green], senior: false }
  - name: ${sx('gail')}
    password: { value: "gail-pw" }
    tenant: acme
    attributes: { region: eu, level: 1, teams: [], senior: false }
apps:
  - name: ${sx('storefront')}
    password: { value: "app-pw" }
    context:
      tenant: app.current_tenant
      tenant_id: { setting: app.current_tenant_id, type: uuid }
    access: readwrite
policies:
  - name: by-tenant-id
    type: row_filter
    tables: [accounts]
    filter: "tenant_id = {user.tenant_id}"
  - name: by-region-team-level
    type: row_filter
    tables: [accounts]
    filter: "region = {user.region} AND team = ANY({user.teams}) AND level <= {user.level}"
  - name: by-org
    type: row_filter
    tables: [events]
    filter: "org = {user.tenant}"
  - name: no-secret
    type: column_deny
    table: accounts
    columns: [secret]
  - name: no-audit
    type: table_deny
    tables: [audit_trail]
assignments:
  - { policy: by-tenant-id, to: all }
  - { policy: by-region-team-level, to: [{ user: ${sx('erin')} }, { user: ${sx('frank')} }] }
  - { policy: by-org, to: all }
  - { policy: no-secret, to: all }
  - { policy: no-audit, to: all }
`;
}

beforeAll(async () => {
  db = await freshDatabase('apps');
  await db.sql.unsafe(SCHEMA);
  await migrateRegistry(db.url);
  const rows = await db.sql`INSERT INTO tenant_registry.tenants (slug, name, status) VALUES ('acme', 'Acme', 'active'), ('globex', 'Globex', 'active') RETURNING slug, id`;
  ids = Object.fromEntries(rows.map((r) => [r['slug'], r['id']]));
  await db.sql`
    INSERT INTO accounts (tenant_id, org, region, team, level, secret) VALUES
      (${ids['acme']!}, 'acme', 'eu', 'red', 1, 's1'), (${ids['acme']!}, 'acme', 'eu', 'blue', 3, 's2'),
      (${ids['acme']!}, 'acme', 'us', 'red', 1, 's3'), (${ids['acme']!}, 'acme', 'eu', 'green', 1, 's4'),
      (${ids['globex']!}, 'globex', 'us', 'green', 1, 's5'), (${ids['globex']!}, 'globex', 'eu', 'red', 1, 's6')`;
  await db.sql`INSERT INTO events VALUES (1, 'acme', '2026-03-01'), (2, 'globex', '2026-04-01'), (3, 'acme', '2027-02-01')`;
  const r = await runCli(['apply', policyFile(policies()), '--yes'], { env: { DATABASE_URL: db.url } });
  expect(r.stderr).toContain('warning');
  expect(r.stderr).not.toContain('error');
  expect(r.code).toBe(0);
});

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.end()));
  const names = [sx('erin'), sx('frank'), sx('gail'), sx('storefront')];
  await db.drop();
  const { default: pg } = await import('postgres');
  const admin = pg(db.url.replace(/\/[^/]+$/, '/postgres'), { max: 1, onnotice: () => {} });
  for (const n of names) await admin.unsafe(`DROP ROLE IF EXISTS "${n}"`);
  await admin.end();
});

describe('typed attributes', () => {
  it('string, list and integer attributes filter rows: erin sees eu rows of her teams up to level 2 of her tenant', async () => {
    const erin = login(sx('erin'), 'erin-pw');
    expect(await erin`SELECT org, region, team, level FROM accounts ORDER BY id`).toEqual([{ org: 'acme', region: 'eu', team: 'red', level: 1 }]);
    const frank = login(sx('frank'), 'frank-pw');
    expect(await frank`SELECT org, region, team FROM accounts ORDER BY id`).toEqual([{ org: 'globex', region: 'us', team: 'green' }]);
  });

  it('an empty list attribute is an empty array, not NULL (found by the differential fuzzer)', async () => {
    const gail = login(sx('gail'), 'gail-pw');
    expect(await gail`SELECT tenantctl.attr('teams') AS t, (tenantctl.attr('teams'))::text[] AS a`).toEqual([{ t: '{}', a: [] }]);
    // erin has connection_limit 3 and other tests log her in: close this session at once.
    const erin = postgres(db.urlFor(sx('erin'), 'erin-pw'), { max: 1, onnotice: () => {} });
    try {
      expect(await erin`SELECT tenantctl.attr('teams') AS t`).toEqual([{ t: '{red,blue}' }]);
    } finally {
      await erin.end();
    }
  });

  it('denied column and denied table do not exist', async () => {
    const erin = login(sx('erin'), 'erin-pw');
    await expect(erin`SELECT secret FROM accounts`).rejects.toMatchObject({ message: 'column "secret" does not exist' });
    await expect(erin`SELECT * FROM audit_trail`).rejects.toMatchObject({ code: '42P01', message: 'relation "audit_trail" does not exist' });
  });

  it('connection_limit becomes the role CONNECTION LIMIT', async () => {
    expect(await db.sql`SELECT rolname, rolconnlimit FROM pg_roles WHERE rolname IN (${sx('erin')}, ${sx('frank')}) ORDER BY 1`).toEqual([
      { rolname: sx('erin'), rolconnlimit: 3 },
      { rolname: sx('frank'), rolconnlimit: -1 },
    ]);
  });

  it('a partitioned table is filtered through its parent, and its partitions queried directly return nothing', async () => {
    const erin = login(sx('erin'), 'erin-pw');
    expect(await erin`SELECT id FROM events ORDER BY id`).toEqual([{ id: '1' }, { id: '3' }]);
    await expect(erin`SELECT * FROM public.events_2026`).rejects.toMatchObject({ code: '42501' });
    const flags = await db.sql`SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class WHERE relname LIKE 'events%' AND relkind IN ('r', 'p') ORDER BY 1`;
    expect(flags).toEqual([
      { relname: 'events', relrowsecurity: true, relforcerowsecurity: true },
      { relname: 'events_2026', relrowsecurity: true, relforcerowsecurity: true },
      { relname: 'events_2027', relrowsecurity: true, relforcerowsecurity: true },
    ]);
  });
});

describe('a pooled application role', () => {
  it('sees nothing until it sets its tenant in the transaction, then only that tenant', async () => {
    const app = login(sx('storefront'), 'app-pw');
    expect(await app`SELECT count(*)::int AS n FROM accounts`).toEqual([{ n: 0 }]);
    const rows = await app.begin(async (tx) => {
      await tx`SELECT set_config('app.current_tenant', 'acme', true), set_config('app.current_tenant_id', ${ids['acme']!}, true)`;
      return tx`SELECT DISTINCT org FROM accounts`;
    });
    expect(rows).toEqual([{ org: 'acme' }]);
    // SET LOCAL ends with the transaction: the next one sees nothing again.
    expect(await app`SELECT count(*)::int AS n FROM accounts`).toEqual([{ n: 0 }]);
  });

  it('a tenant setting that names one tenant and an id of another gives nothing, never both', async () => {
    const app = login(sx('storefront'), 'app-pw');
    const n = await app.begin(async (tx) => {
      await tx`SELECT set_config('app.current_tenant', 'acme', true), set_config('app.current_tenant_id', ${ids['globex']!}, true)`;
      return tx`SELECT count(*)::int AS n FROM accounts`;
    });
    expect(n).toEqual([{ n: 0 }]);
  });

  it('an id that does not cast to uuid makes the statement fail, never widen', async () => {
    const app = login(sx('storefront'), 'app-pw');
    await expect(
      app.begin(async (tx) => {
        await tx`SELECT set_config('app.current_tenant_id', 'not-a-uuid', true)`;
        return tx`SELECT count(*) FROM accounts`;
      }),
    ).rejects.toMatchObject({ code: '22P02' });
  });

  it('writes inside the tenant set for the transaction, and only there', async () => {
    const app = login(sx('storefront'), 'app-pw');
    const asGlobex = async <T>(work: (tx: postgres.TransactionSql) => Promise<T>): Promise<T> =>
      app.begin(async (tx) => {
        await tx`SELECT set_config('app.current_tenant', 'globex', true), set_config('app.current_tenant_id', ${ids['globex']!}, true)`;
        return work(tx);
      }) as Promise<T>;
    const inserted = await asGlobex((tx) => tx`INSERT INTO accounts (tenant_id, org, region, team, level) VALUES (${ids['globex']!}, 'globex', 'us', 'x', 1) RETURNING org`);
    expect(inserted).toEqual([{ org: 'globex' }]);
    await expect(asGlobex((tx) => tx`INSERT INTO accounts (tenant_id, org, region, team, level) VALUES (${ids['acme']!}, 'acme', 'us', 'x', 1)`)).rejects.toMatchObject({
      message: 'new row violates row-level security policy for table "accounts"',
    });
    expect(await db.sql`SELECT count(*)::int AS n FROM public.accounts WHERE team = 'x'`).toEqual([{ n: 1 }]);
  });

  it('a second apply of the same file is a no-op', async () => {
    const r = await runCli(['apply', policyFile(policies()), '--yes'], { env: { DATABASE_URL: db.url } });
    expect(r.stdout).toBe('No changes.\n');
  });
});
