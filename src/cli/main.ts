import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, formatError } from './errors.js';
import { err, errColour } from './output.js';
import { registerDemo } from './commands/demo.js';
import { registerMigrate } from './commands/migrate.js';
import { registerPolicyCommands } from './commands/policy.js';
import { registerSchema } from './commands/schema.js';
import { registerValidate } from './commands/validate.js';
import { registerDiff } from './commands/diff.js';
import { registerTenant } from './commands/tenant.js';
import { registerApikey } from './commands/apikey.js';
import { registerAudit } from './commands/audit.js';
import { registerTest } from './commands/test.js';
import { registerLint } from './commands/lint.js';

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('tenantctl')
    .description('Compile a declarative tenant access policy file into native PostgreSQL roles, RLS policies, masking views and grants.')
    .version(packageVersion(), '-V, --version', 'print the tenantctl version')
    .option('--debug', 'print stack traces with errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerValidate(program);
  registerSchema(program);
  registerPolicyCommands(program);
  registerDiff(program);
  registerMigrate(program);
  registerDemo(program);
  registerTenant(program);
  registerApikey(program);
  registerAudit(program);
  registerTest(program);
  registerLint(program);
  program.addHelpText(
    'after',
    `
Examples:
  $ tenantctl demo up                                # a local PostgreSQL with the demo policies applied
  $ tenantctl validate policies.yaml                 # offline checks, file:line:column errors
  $ tenantctl schema > policies.schema.json          # JSON Schema for editors
  $ tenantctl migrate up --database-url postgres://admin@localhost/app
  $ tenantctl plan policies.yaml --detailed-exitcode # what apply would change; 2 when anything would
  $ tenantctl apply policies.yaml --yes              # one transaction, audit-logged
  $ tenantctl migrate status --exit-code

Run \`tenantctl <command> --help\` for each command's options and examples.

Exit codes: 0 success, 1 error, 2 changes or drift found (with --exit-code), 3 policy test failed.`,
  );
  return program;
}

/** Run the CLI; resolves to the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and --version end with exit code 0; usage errors were already printed by commander.
      return e.exitCode;
    }
    const debug = Boolean(program.opts()['debug']) || process.argv.includes('--debug');
    err(errColour.red('error: ') + formatError(e, debug));
    return e instanceof CliError ? e.exitCode : 1;
  }
}
