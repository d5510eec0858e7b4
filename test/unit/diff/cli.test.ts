// tenantctl diff as a user runs it (the built CLI, a child process): exit codes, formats, --base from git, errors.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runCli } from '../../helpers/cli.js';

const OLD = `version: 1
users:
  - name: alice
    tenant: acme
policies:
  - name: iso
    type: row_filter
    tables: [customers]
    filter: "org = {user.tenant}"
  - name: mask-ssn
    type: column_mask
    table: customers
    column: ssn
    mask: "'***'"
  - name: hide-cc
    type: column_deny
    table: customers
    columns: [credit_card]
assignments:
  - { policy: iso, to: all }
  - { policy: mask-ssn, to: all }
  - { policy: hide-cc, to: all }
`;
const WIDER = OLD.replace('  - { policy: mask-ssn, to: all }\n', '');
const NARROWER = OLD.replace('columns: [credit_card]', 'columns: [credit_card, email]');
const REVIEW = OLD.replace('filter: "org = {user.tenant}"', 'filter: "org = lower({user.tenant})"');
const REFORMATTED = `version: 1
users: [{ name: alice, tenant: acme }]
policies:
  - { name: no-cards, type: column_deny, table: customers, columns: [credit_card] }
  - { name: ssn, type: column_mask, table: customers, column: ssn, mask: "  '***'  " }
  - { name: isolation, type: row_filter, tables: [customers], filter: "(org)=({user.tenant})" }
assignments:
  - { policy: no-cards, to: all }
  - { policy: isolation, to: all }
  - { policy: ssn, to: all }
`;

const dir = mkdtempSync(join(tmpdir(), 'tenantctl-diff-'));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
let repo: string;
const git = (...args: string[]): string => execFileSync('git', args, { cwd: repo, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t' } });

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'tenantctl-diff-repo-'));
  git('init', '-q', '-b', 'main');
  writeFileSync(join(repo, 'policies.yaml'), OLD);
  git('add', 'policies.yaml');
  git('commit', '-qm', 'base');
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  rmSync(repo, { recursive: true, force: true });
});

describe('two files', () => {
  test('reformatted, reordered and renamed: no change, exit 0 even with --exit-code', async () => {
    const r = await runCli(['diff', file('a.yaml', OLD), file('b.yaml', REFORMATTED), '--exit-code', '--fail-on', 'widening']);
    expect(r).toEqual({ code: 0, stdout: 'No changes in access.\n', stderr: '' });
  });

  test('a mask removed: text output; --exit-code and --fail-on widening exit 2', async () => {
    const args = ['diff', file('a.yaml', OLD), file('wider.yaml', WIDER)];
    const plain = await runCli(args);
    expect(plain).toEqual({
      code: 0,
      stdout: "user alice\n  [widens] public.customers: mask on ssn removed (was '***'): the column reads unmasked\n\nDiff: 1 change: 1 widens, 0 narrows, 0 to review, 0 neutral.\n",
      stderr: '',
    });
    expect((await runCli([...args, '--exit-code'])).code).toBe(2);
    expect((await runCli([...args, '--fail-on', 'widening'])).code).toBe(2);
  });

  test('--fail-on widening passes a narrowing; review fails unless --allow-review', async () => {
    expect((await runCli(['diff', file('a.yaml', OLD), file('narrower.yaml', NARROWER), '--fail-on', 'widening'])).code).toBe(0);
    const review = ['diff', file('a.yaml', OLD), file('review.yaml', REVIEW), '--fail-on', 'widening'];
    const r = await runCli(review);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('[review] public.customers: row filter changed: org = {user.tenant} -> org = lower({user.tenant})');
    expect((await runCli([...review, '--allow-review'])).code).toBe(0);
  });

  test('--format json and markdown', async () => {
    const r = await runCli(['diff', file('a.yaml', OLD), file('narrower.yaml', NARROWER), '--format', 'json']);
    expect(JSON.parse(r.stdout)).toEqual({
      format_version: 1,
      old: join(dir, 'a.yaml'),
      new: join(dir, 'narrower.yaml'),
      summary: { changes: 1, widens: 0, narrows: 1, review: 0, neutral: 0 },
      changes: [{ subject: 'user alice', table: 'public.customers', aspect: 'columns', effect: 'narrows', detail: 'columns now hidden: email' }],
    });
    const md = await runCli(['diff', file('a.yaml', OLD), file('narrower.yaml', NARROWER), '--format', 'markdown']);
    expect(md.stdout).toContain('| narrows | user alice | `public.customers` | columns now hidden: email |\n');
  });
});

describe('--base REV FILE', () => {
  test('reads the old file from git: a working-tree change against main', async () => {
    const path = join(repo, 'policies.yaml');
    writeFileSync(path, WIDER);
    try {
      const r = await runCli(['diff', '--base', 'main', path, '--format', 'json', '--fail-on', 'widening']);
      expect(r.code).toBe(2);
      const parsed = JSON.parse(r.stdout) as { old: string; summary: { widens: number } };
      expect(parsed.old).toBe(`main:${path}`);
      expect(parsed.summary.widens).toBe(1);
    } finally {
      writeFileSync(path, OLD);
    }
    expect(await runCli(['diff', '--base', 'main', path])).toEqual({ code: 0, stdout: 'No changes in access.\n', stderr: '' });
  });

  test('a file that is new since the base: compared with an empty file, everything widens', async () => {
    const path = join(repo, 'new-policies.yaml');
    writeFileSync(path, OLD);
    const r = await runCli(['diff', '--base', 'main', path, '--fail-on', 'widening']);
    expect(r.code).toBe(2);
    expect(r.stderr).toBe(`note: ${path} does not exist at main: comparing with an empty policy file\n`);
    expect(r.stdout).toContain('[widens] new user (a LOGIN role)');
  });

  test('an unknown revision: exit 1, git says why, nothing printed on stdout', async () => {
    const r = await runCli(['diff', '--base', 'no-such-branch', join(repo, 'policies.yaml')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe('error: --base no-such-branch: not a revision of a git repository at ' + repo + '\n');
  });

  test('outside a git repository: exit 1', async () => {
    const r = await runCli(['diff', '--base', 'main', file('a.yaml', OLD)]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^error: --base main: fatal: not a git repository/);
  });
});

describe('errors', () => {
  test('an invalid file: diagnostics, exit 1, nothing compared', async () => {
    const bad = file('bad.yaml', OLD.replace('type: row_filter', 'type: row_filtre'));
    const r = await runCli(['diff', file('a.yaml', OLD), bad, '--exit-code']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${bad}:7:11: error:`);
    expect(r.stderr).toMatch(new RegExp(`error: ${bad.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not valid: 1 error; nothing was compared\n$`));
  });

  test('wrong arguments', async () => {
    const a = file('a.yaml', OLD);
    expect(await runCli(['diff', a])).toEqual({ code: 1, stdout: '', stderr: 'error: give two files (tenantctl diff OLD NEW), or --base REV FILE\n' });
    expect(await runCli(['diff', '--base', 'main', a, a])).toEqual({ code: 1, stdout: '', stderr: 'error: with --base, give exactly one file: tenantctl diff --base REV FILE\n' });
    expect(await runCli(['diff', a, a, '--allow-review'])).toEqual({ code: 1, stdout: '', stderr: 'error: --allow-review only makes sense with --fail-on widening\n' });
    const bad = await runCli(['diff', a, a, '--fail-on', 'narrowing']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("error: option '--fail-on <what>' argument 'narrowing' is invalid. Allowed choices are widening.");
    // The files are untouched.
    expect(readFileSync(a, 'utf8')).toBe(OLD);
  });
});
