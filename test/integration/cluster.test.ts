import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { startCluster, findServerBinaries, portInUse } from '../../src/pg/cluster.js';
import { freshDatabase } from '../helpers/db.js';

function postmasterRunning(dataDir: string): boolean {
  // pgrep -f matches the postgres command line, which names the data directory.
  return spawnSync('pgrep', ['-f', `-D ${dataDir}`]).status === 0 || spawnSync('pgrep', ['-f', dataDir]).status === 0;
}

describe('throwaway PostgreSQL (src/pg/cluster.ts)', () => {
  it('the shared test server accepts SCRAM password logins over TCP and rejects a wrong password', async () => {
    const db = await freshDatabase('cluster');
    try {
      await db.sql.unsafe(`CREATE ROLE probe LOGIN PASSWORD 'right-one'`);
      const good = postgres(db.urlFor('probe', 'right-one'), { max: 1 });
      const [row] = await good<{ user: string }[]>`SELECT current_user AS user`;
      expect(row?.user).toBe('probe');
      const [stored] = await db.sql<{ scram: boolean }[]>`
        SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = 'probe'`;
      expect(stored?.scram).toBe(true);
      await good.end();
      const bad = postgres(db.urlFor('probe', 'wrong-one'), { max: 1 });
      await expect(bad`SELECT 1`).rejects.toMatchObject({ code: '28P01' });
      await bad.end();
      const [hba] = await db.sql<{ auth_method: string }[]>`
        SELECT auth_method FROM pg_hba_file_rules WHERE type = 'host' ORDER BY line_number LIMIT 1`;
      expect(hba?.auth_method).toBe('scram-sha-256');
    } finally {
      await db.drop();
    }
  });

  for (const provider of ['local', 'embedded'] as const) {
    it(`the ${provider} provider starts on 127.0.0.1 and stop() leaves no process and no directory`, async (ctx) => {
      if (provider === 'local' && !findServerBinaries()) ctx.skip();
      const lines: string[] = [];
      const cluster = await startCluster({ provider, fast: true, log: (l) => lines.push(l) });
      const dataDir = cluster.dataDir as string;
      try {
        expect(lines.join('\n')).toContain(`PostgreSQL provider: ${provider} at 127.0.0.1:${cluster.port}`);
        expect(existsSync(dataDir)).toBe(true);
        const sql = postgres(cluster.url(), { max: 1 });
        const [row] = await sql<{ listen: string; v: string }[]>`
          SELECT current_setting('listen_addresses') AS listen, current_setting('server_version_num') AS v`;
        expect(row?.listen).toBe('127.0.0.1');
        expect(Number(row?.v)).toBeGreaterThanOrEqual(150000);
        await sql.end();
        const wrong = postgres(cluster.url().replace(`:${encodeURIComponent(cluster.password)}@`, ':nope@'), { max: 1 });
        await expect(wrong`SELECT 1`).rejects.toMatchObject({ code: '28P01' });
        await wrong.end();
      } finally {
        await cluster.stop();
      }
      expect(existsSync(dataDir)).toBe(false);
      expect(postmasterRunning(dataDir)).toBe(false);
      expect(await portInUse(cluster.port)).toBe(false);
    });
  }

  it('a forced provider that cannot run here fails with the reason', async () => {
    await expect(startCluster({ provider: 'external', env: {} })).rejects.toThrow(
      'PostgreSQL provider "external" is not available: TENANTCTL_TEST_DATABASE_URL is not set',
    );
    await expect(startCluster({ provider: 'bogus' as never })).rejects.toThrow('unknown PostgreSQL provider "bogus"');
  });
});
