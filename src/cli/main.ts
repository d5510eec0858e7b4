import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { CliError, formatError } from './errors.js';
import { err, errColour } from './output.js';

type Register = (program: Command) => void;

/**
 * The modules that register the commands, in the order `--help` lists them, each loaded only when needed:
 * loading all of them (zod, yaml, the SQL parser, kysely, ora, argon2...) cost about 0.7 s of CPU on every
 * run, twice what one command needs. A run names its command first (the only global options, --debug and
 * --version, take no value), so only that module is loaded; help and unknown commands load them all.
 */
const COMMANDS: readonly (readonly [names: readonly string[], load: () => Promise<Register>])[] = [
  [['validate'], async () => (await import('./commands/validate.js')).registerValidate],
  [['schema'], async () => (await import('./commands/schema.js')).registerSchema],
  [['plan', 'apply'], async () => (await import('./commands/policy.js')).registerPolicyCommands],
  [['diff'], async () => (await import('./commands/diff.js')).registerDiff],
  [['migrate'], async () => (await import('./commands/migrate.js')).registerMigrate],
  [['demo'], async () => (await import('./commands/demo.js')).registerDemo],
  [['tenant'], async () => (await import('./commands/tenant.js')).registerTenant],
  [['apikey'], async () => (await import('./commands/apikey.js')).registerApikey],
  [['audit'], async () => (await import('./commands/audit.js')).registerAudit],
  [['test'], async () => (await import('./commands/test.js')).registerTest],
  [['lint'], async () => (await import('./commands/lint.js')).registerLint],
];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** The program with the command that `argv` runs registered, or every command when it names none known. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const args = argv.slice(2);
  const named = args.find((a) => !a.startsWith('-'));
  const only = COMMANDS.find(([names]) => named !== undefined && names.includes(named));
  // `tenantctl --version` needs no command at all (with --help too, the help lists them all).
  const versionOnly = named === undefined && args.some((a) => a === '--version' || a === '-V') && !args.some((a) => a === '--help' || a === '-h');
  const registers = await Promise.all((only ? [only] : versionOnly ? [] : COMMANDS).map(([, load]) => load()));
  const program = new Command('tenantctl')
    .description('Compile a declarative tenant access policy file into native PostgreSQL roles, RLS policies, masking views and grants.')
    .version(packageVersion(), '-V, --version', 'print the tenantctl version')
    .option('--debug', 'print stack traces with errors')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of registers) register(program);
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
  const program = await buildProgram(argv);
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
