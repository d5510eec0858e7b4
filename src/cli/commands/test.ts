import { Option, type Command } from 'commander';
import { resolveDatabaseUrl } from '../../pg/connect.js';
import { loadTestFile, passwordsFromPolicyFile, runAssertions, TestFileError, type AssertionResult, type LoadedAssertion } from '../../policytest/run.js';
import { testFileJsonSchema } from '../../policytest/schema.js';
import { CliError } from '../errors.js';
import { withConnection, type ConnectionFlags } from '../options.js';
import { colour, out } from '../output.js';

interface TestFlags extends ConnectionFlags {
  format: 'text' | 'json' | 'junit';
  login?: boolean;
  policies?: string;
  passwordEnv?: string;
  schema?: boolean;
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function actual(r: AssertionResult): Record<string, unknown> {
  return r.outcome.kind === 'error' ? { error: { sqlstate: r.outcome.sqlstate, message: r.outcome.message } } : { columns: r.outcome.columns, row_count: r.outcome.rows.length };
}

function junit(results: AssertionResult[]): string {
  const byFile = new Map<string, AssertionResult[]>();
  for (const r of results) byFile.set(r.assertion.file, [...(byFile.get(r.assertion.file) ?? []), r]);
  const lines = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="tenantctl test" tests="${results.length}" failures="${results.filter((r) => !r.ok).length}">`];
  for (const [file, rs] of byFile) {
    lines.push(`  <testsuite name="${xml(file)}" tests="${rs.length}" failures="${rs.filter((r) => !r.ok).length}">`);
    for (const r of rs) {
      const head = `    <testcase classname="${xml(r.assertion.principal.name)}" name="${xml(r.assertion.label)}"`;
      if (r.ok) lines.push(`${head}/>`);
      else lines.push(`${head}>`, `      <failure message="${xml(r.failures[0] ?? 'failed')}">${xml(r.failures.join('\n'))}</failure>`, '    </testcase>');
    }
    lines.push('  </testsuite>');
  }
  lines.push('</testsuites>');
  return lines.join('\n');
}

export function registerTest(program: Command): void {
  withConnection(
    program
      .command('test')
      .description('run policy assertions from test files, each as its user or app in a transaction that is rolled back')
      .argument('[files...]', 'test files (YAML; see docs/testing.md and `tenantctl test --schema`)'),
  )
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'junit']).default('text'))
    .option('--login', 'log in as each user with its password (faithful; works without a superuser)')
    .option('--policies <file>', 'with --login: read each principal\'s password from this policy file (its { env } or { value })')
    .option('--password-env <var>', 'with --login: the environment variable holding the password of principals the policy file does not give')
    .option('--schema', 'print the JSON Schema of test files and exit')
    .addHelpText(
      'after',
      `
Default (fast) mode: one superuser connection; each assertion runs after SET LOCAL SESSION AUTHORIZATION <user>
and the user's role settings for this database (its persona search_path). --login logs in for real instead.
Both give the same answers. Exit codes: 0 all passed, 3 an assertion failed, 1 error (bad file, connection).

Examples:
  $ tenantctl test fixtures/demo_ecommerce/tests.yaml --database-url postgres://postgres@localhost/app
  $ DEMO_PASSWORD=... tenantctl test tests.yaml --login --policies policies.yaml
  $ tenantctl test tests/*.yaml --format junit > junit.xml
  $ tenantctl test --schema > tests.schema.json`,
    )
    .action(async (files: string[], flags: TestFlags) => {
      if (flags.schema) {
        out(JSON.stringify(testFileJsonSchema(), null, 2));
        return;
      }
      if (files.length === 0) throw new CliError('no test file given: tenantctl test FILE...');
      if (!flags.login && (flags.policies !== undefined || flags.passwordEnv !== undefined)) throw new CliError('--policies and --password-env need --login');
      let passwords = new Map<string, string>();
      let fallback: string | undefined;
      try {
        const assertions: LoadedAssertion[] = files.flatMap((f) => loadTestFile(f));
        if (flags.policies !== undefined) passwords = passwordsFromPolicyFile(flags.policies, process.env);
        if (flags.passwordEnv !== undefined) {
          fallback = process.env[flags.passwordEnv];
          if (fallback === undefined || fallback === '') throw new CliError(`--password-env: environment variable ${flags.passwordEnv} is not set`);
        }
        const results = await runAssertions(assertions, {
          mode: flags.login ? 'login' : 'fast',
          url: resolveDatabaseUrl(flags.databaseUrl),
          passwordFor: (name) => passwords.get(name) ?? fallback,
        });
        report(results, flags.format, flags.login ? 'login' : 'fast');
        if (results.some((r) => !r.ok)) process.exitCode = 3;
      } catch (e) {
        if (e instanceof TestFileError) throw new CliError(e.message);
        if (e instanceof Error && 'code' in e && (e as { code: unknown }).code === 'ENOENT') throw new CliError(`cannot read ${flags.policies}: ENOENT`);
        throw e;
      }
    });
}

function report(results: AssertionResult[], format: TestFlags['format'], mode: string): void {
  const failed = results.filter((r) => !r.ok).length;
  if (format === 'json') {
    out(
      JSON.stringify(
        {
          mode,
          passed: results.length - failed,
          failed,
          results: results.map((r) => ({
            file: r.assertion.file,
            index: r.assertion.index,
            name: r.assertion.label,
            as: r.assertion.principal,
            ok: r.ok,
            failures: r.failures,
            actual: actual(r),
          })),
        },
        null,
        2,
      ),
    );
    return;
  }
  if (format === 'junit') {
    out(junit(results));
    return;
  }
  for (const r of results) {
    out(`${r.ok ? colour.green('ok  ') : colour.red('FAIL')} ${r.assertion.label}`);
    for (const f of r.failures) out(`     ${f}`);
  }
  out(`${results.length} assertion${results.length === 1 ? '' : 's'}: ${results.length - failed} passed, ${failed} failed.`);
}
