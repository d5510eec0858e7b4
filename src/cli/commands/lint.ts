// tenantctl lint: catalog checks of a live database (src/lint), text or JSON; exit 2 when an error-level finding exists.
import { Option, type Command } from 'commander';
import { runLint, type LintResult } from '../../lint/facts.js';
import type { Finding, Level } from '../../lint/types.js';
import { connect } from '../../pg/connect.js';
import { checkPolicyFile } from '../../policy/check.js';
import { plural, printDiagnostics } from '../diagnostics.js';
import { CliError } from '../errors.js';
import { withConnection, type ConnectionFlags } from '../options.js';
import { colour, out } from '../output.js';

interface LintFlags extends ConnectionFlags {
  format: 'text' | 'json';
  policies?: string;
}

const paint: Record<Level, (s: string) => string> = { error: (s) => colour.red(s), warning: (s) => colour.yellow(s), info: (s) => colour.cyan(s) };

function counts(findings: readonly Finding[]): Record<Level, number> {
  return {
    error: findings.filter((f) => f.level === 'error').length,
    warning: findings.filter((f) => f.level === 'warning').length,
    info: findings.filter((f) => f.level === 'info').length,
  };
}

function report(result: LintResult, format: LintFlags['format']): void {
  const summary = counts(result.findings);
  if (format === 'json') {
    out(
      JSON.stringify(
        {
          format_version: 1,
          database: result.database,
          server_version: result.facts.serverVersion,
          governed_schemas: result.facts.governedSchemas,
          governed_from: result.facts.governedFrom,
          data_plane_roles: result.dataPlaneRoles,
          summary,
          findings: result.findings.map((f) => ({ level: f.level, check: f.check, object: f.object, why: f.why, fix: f.fix })),
        },
        null,
        2,
      ),
    );
    return;
  }
  const from = result.facts.governedFrom === 'policies' ? 'from --policies' : 'schemas with a row-security table, plus public';
  out(`Database ${result.database} (PostgreSQL ${result.facts.serverVersion}); governed schemas: ${result.facts.governedSchemas.join(', ') || '(none)'} (${from}).`);
  out(`Data-plane roles: ${result.dataPlaneRoles.join(', ') || '(none)'}.`);
  out();
  for (const f of result.findings) {
    out(`${paint[f.level](f.level.padEnd(7))} ${f.check}  ${colour.bold(f.object)}`);
    out(`        why: ${f.why}`);
    out(`        fix: ${f.fix}`);
  }
  if (result.findings.length > 0) out();
  out(result.findings.length === 0 ? 'No findings.' : `${plural(result.findings.length, 'finding')}: ${plural(summary.error, 'error')}, ${plural(summary.warning, 'warning')}, ${summary.info} info.`);
}

export function registerLint(program: Command): void {
  withConnection(program.command('lint'))
    .description('check a live database for row-security, role and privilege mistakes that let tenants read each other\'s rows')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('--policies <file>', "take the governed schemas and data-plane logins from this policy file (default: every schema with a row-security table, plus public)")
    .addHelpText(
      'after',
      `
Each finding has a level (error, warning, info), the check's id, the object, why it matters and the fix; docs/lint.md
describes every check. Run it as a superuser or as the operator that runs apply (it reads tenantctl.principals).
Exit codes: 0 no error-level finding, 2 at least one error-level finding, 1 error (bad file, connection).

Examples:
  $ tenantctl lint --database-url postgres://admin@localhost/app
  $ tenantctl lint --policies policies.yaml          # governed schemas and logins from the file
  $ tenantctl lint --format json | jq '.findings[] | select(.level == "error")'`,
    )
    .action(async (flags: LintFlags) => {
      let file: Parameters<typeof runLint>[1]['file'];
      if (flags.policies !== undefined) {
        const checked = await checkPolicyFile(flags.policies);
        if (!checked.model || checked.errors.length > 0) {
          printDiagnostics(checked.errors);
          throw new CliError(`${flags.policies} is not valid: ${plural(checked.errors.length, 'error')}; nothing was checked`);
        }
        const m = checked.model;
        const principals = [...m.users, ...m.apps];
        file = {
          path: flags.policies,
          schemas: m.schemas.map((s) => s.name),
          principals: principals.map((p) => p.name),
          readOnly: principals.every((p) => p.access === 'read'),
        };
      }
      const sql = connect({ databaseUrl: flags.databaseUrl, max: 4, applicationName: 'tenantctl lint' });
      try {
        const result = await runLint(sql, { registrySchema: flags.registrySchema, ...(file ? { file } : {}) });
        report(result, flags.format);
        if (result.findings.some((f) => f.level === 'error')) process.exitCode = 2;
      } finally {
        await sql.end({ timeout: 5 });
      }
    });
}
