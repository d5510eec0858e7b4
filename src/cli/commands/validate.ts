import { Option, type Command } from 'commander';
import { checkPolicyFile, type CheckResult } from '../../policy/check.js';
import type { Diagnostic } from '../../policy/diagnostic.js';
import { plural, printDiagnostics } from '../diagnostics.js';
import { CliError } from '../errors.js';
import { out } from '../output.js';

function jsonDiagnostic(d: Diagnostic): Record<string, unknown> {
  return { file: d.file, line: d.line, column: d.column, message: d.message, ...(d.suggestion !== undefined ? { suggestion: d.suggestion } : {}) };
}

function counts(result: CheckResult): Record<string, number> | undefined {
  const m = result.model;
  return m && { users: m.users.length, apps: m.apps.length, roles: m.roles.length, policies: m.policies.length, assignments: m.assignments.length };
}

export function registerValidate(program: Command): void {
  program
    .command('validate')
    .description('check a policy file offline: YAML, schema, names, references and SQL expressions (opens no connection)')
    .argument('<file>', 'the policy file (policies.yaml)')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json']).default('text'))
    .addHelpText(
      'after',
      `
Every problem is reported as FILE:LINE:COL: error: message (with "did you mean" for a misspelt name).
Exit code 0 when the file is valid, 1 when it has any error; warnings alone do not fail.

Examples:
  $ tenantctl validate policies.yaml
  $ tenantctl validate policies.yaml --format json | jq '.errors[]'`,
    )
    .action(async (file: string, opts: { format: 'text' | 'json' }) => {
      const result = await checkPolicyFile(file);
      const n = counts(result);
      if (opts.format === 'json') {
        out(
          JSON.stringify(
            {
              valid: result.errors.length === 0,
              errors: result.errors.map(jsonDiagnostic),
              warnings: result.warnings.map(jsonDiagnostic),
              ...(n ? { counts: n } : {}),
            },
            null,
            2,
          ),
        );
      } else {
        printDiagnostics([...result.errors, ...result.warnings]);
        if (n) {
          out(
            `${file} is valid: ${plural(n['users']!, 'user')}, ${plural(n['apps']!, 'app')}, ${plural(n['roles']!, 'role')}, ` +
              `${plural(n['policies']!, 'policy', 'policies')}, ${plural(n['assignments']!, 'assignment')}.`,
          );
        }
      }
      if (result.errors.length > 0) {
        throw new CliError(`${file} is not valid: ${plural(result.errors.length, 'error')}, ${plural(result.warnings.length, 'warning')}.`);
      }
    });
}
