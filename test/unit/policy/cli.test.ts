import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test, vi } from 'vitest';
import { main } from '../../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantctl-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => vi.restoreAllMocks());

async function run(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  const code = await main(['node', 'tenantctl', ...args]);
  vi.restoreAllMocks();
  return { code, stdout, stderr };
}

const BAD = `version: 1
policies:
  - name: tenant-isolation
    type: row_filter
    tabels: [customers]
    filter: "org = {user.tenant}"
`;

describe('tenantctl validate', () => {
  test('a bad file: exit code 1 and FILE:LINE:COL messages with a suggestion', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, BAD);
    const { code, stdout, stderr } = await run('validate', path);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toBe(
      `${path}:5:5: error: unknown key \`tabels\` in item 1 of \`policies\`\n  did you mean \`tables\`?\n` +
        `error: ${path} is not valid: 1 error, 0 warnings.\n`,
    );
  });

  test('a valid file: exit code 0 and the summary line', async () => {
    const { code, stdout, stderr } = await run('validate', 'fixtures/demo_ecommerce/policies.yaml');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toBe('fixtures/demo_ecommerce/policies.yaml is valid: 3 users, 0 apps, 0 roles, 8 policies, 6 assignments.\n');
  });

  test('--format json', async () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, BAD);
    const { code, stdout } = await run('validate', path, '--format', 'json');
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      valid: false,
      errors: [{ file: path, line: 5, column: 5, message: 'unknown key `tabels` in item 1 of `policies`', suggestion: 'tables' }],
      warnings: [],
    });
    const ok = await run('validate', 'test/unit/policy/fixtures/example.yaml', '--format', 'json');
    expect(ok.code).toBe(0);
    const parsed = JSON.parse(ok.stdout) as { valid: boolean; warnings: unknown[]; counts: unknown };
    expect(parsed.valid).toBe(true);
    expect(parsed.warnings).toHaveLength(1);
    expect(parsed.counts).toEqual({ users: 2, apps: 1, roles: 1, policies: 8, assignments: 5 });
  });

  test('help has a description and an example', async () => {
    const { code, stdout } = await run('validate', '--help');
    expect(code).toBe(0);
    expect(stdout).toContain('check a policy file offline');
    expect(stdout).toContain('$ tenantctl validate policies.yaml');
  });
});

describe('tenantctl schema', () => {
  test('prints the JSON Schema', async () => {
    const { code, stdout } = await run('schema');
    expect(code).toBe(0);
    const schema = JSON.parse(stdout) as Record<string, unknown>;
    expect(schema['$schema']).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema['title']).toBe('tenantctl policy file (version 1)');
  });
});
