// tenantctl plan FILE and tenantctl apply FILE.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Option, type Command } from 'commander';
import { LockTimeoutRetriesExhausted, RegistryMissingError, StatementError } from '../../apply/errors.js';
import type { SessionResult } from '../../apply/session.js';
import { LockTimeoutError } from '../../pg/advisory-lock.js';
import type { CheckResult } from '../../policy/check.js';
import { checkPolicyFileOffThread } from '../../policy/check-thread.js';
import type { PolicyModel } from '../../policy/model.js';
import { CliError } from '../errors.js';
import { confirm } from '../prompt.js';
import { plural, printDiagnostics } from '../diagnostics.js';
import { colour, err, out } from '../output.js';
import { durationMs, lockTimeoutOption, withConnection, type ConnectionFlags } from '../options.js';
import { planWidens, renderPlan, summaryLine, type PlanFormat } from '../plan-output.js';

/** The file's diagnostics printed; its model, or a CliError when it has errors. */
function modelOf(file: string, checked: CheckResult): PolicyModel {
  printDiagnostics([...checked.errors, ...checked.warnings]);
  if (!checked.model || checked.errors.length > 0) {
    throw new CliError(`${file} is not valid: ${plural(checked.errors.length, 'error')}; nothing was applied`);
  }
  return checked.model;
}

/** Offline validation first (apply): a file with any error never reaches a connection. With its warnings' count. */
async function validModel(file: string): Promise<{ model: PolicyModel; warnings: number }> {
  // Imported here: plan checks the file on another thread, and need not load the checker's modules (js-yaml, zod).
  const { checkPolicyFile } = await import('../../policy/check.js');
  const checked = await checkPolicyFile(file);
  return { model: modelOf(file, checked), warnings: checked.warnings.length };
}

/** What `plan` prints when the catalog is as the last converged apply left it (src/apply/converged.ts). */
function convergedNote(recordedAt: Date): string {
  return `note: the catalog is as the apply of ${recordedAt.toISOString()} left it (same file, same tenantctl, same catalog fingerprint), and the plan then had nothing to change; --full compares every object again`;
}

/** Compile errors need the live catalog (unknown tables, columns, tenants): reported like validation errors. */
function reportInvalid(file: string, result: Extract<SessionResult, { kind: 'invalid' }>): never {
  printDiagnostics([...result.compiled.errors, ...result.compiled.warnings]);
  throw new CliError(`${file} does not fit database ${result.catalog.database}: ${plural(result.compiled.errors.length, 'error')}; nothing was applied`);
}

function refuse(result: Extract<SessionResult, { kind: 'planned' }>): never {
  for (const e of result.plan.errors) err(`error: ${e}`);
  throw new CliError(`the plan cannot be applied: ${plural(result.plan.errors.length, 'problem')}; nothing was applied`);
}

function translate(e: unknown): unknown {
  if (e instanceof RegistryMissingError || e instanceof LockTimeoutError || e instanceof LockTimeoutRetriesExhausted || e instanceof StatementError) {
    return new CliError(e.message);
  }
  return e;
}

interface PlanFlags extends ConnectionFlags {
  format: PlanFormat;
  detailedExitcode?: boolean;
  prune?: boolean;
  full?: boolean;
  failOn?: 'widening';
  allowReview?: boolean;
}

const failOnOption = (what: string): Option =>
  new Option('--fail-on <what>', `${what} when any step widens access (a \`review\` step counts unless --allow-review)`).choices(['widening']);

function checkReviewFlags(flags: PlanFlags): void {
  if (flags.allowReview && !flags.failOn) throw new CliError('--allow-review only makes sense with --fail-on widening');
}

export function registerPolicyCommands(program: Command): void {
  withConnection(program.command('plan'))
    .description('show what apply would change in the database, statement by statement (changes nothing)')
    .argument('<file>', 'the policy file')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'sql', 'markdown']).default('text'))
    .option('--detailed-exitcode', 'exit 0 when there is nothing to change, 2 when there are changes, 1 on error')
    .option('--prune', 'plan to drop login roles that tenantctl created and the file no longer lists')
    .option('--full', 'compare every object, even when the catalog is as the last apply of this file left it')
    .addOption(failOnOption('exit 2'))
    .option('--allow-review', 'with --fail-on widening: do not count review steps (changed expressions) as widening')
    .addHelpText(
      'after',
      '\nEach step is labelled widens, narrows, neutral or review; drift (a change made by hand) says "drift: ..." and how it is fixed.\n' +
        'Exit codes: 0 nothing to change (or, with --fail-on widening, nothing widens), 1 error, 2 changes or drift with --detailed-exitcode, or a widening with --fail-on.\n' +
        'Unless --full: when nothing it reads has changed since an apply of the same file after which the plan was empty (same file, tenantctl and options, same\n' +
        'password variables, and the catalog fingerprint that apply recorded), plan says so in a note and prints "No changes." without comparing every object.\n' +
        '\nExamples:\n  $ tenantctl plan policies.yaml\n  $ tenantctl plan policies.yaml --format sql > change.sql\n  $ tenantctl plan policies.yaml --detailed-exitcode   # in CI: 2 means drift or pending changes\n  $ tenantctl plan policies.yaml --fail-on widening --format markdown   # 2 when the plan would widen access',
    )
    .action(async (file: string, flags: PlanFlags) => {
      checkReviewFlags(flags);
      // src/apply/plan-file.ts checks the file on another thread while it reads the catalog (imports only Node's
      // modules, so the thread starts before the database side loads).
      const { planFile } = await import('../../apply/plan-file.js');
      const result = await planFile({
        file,
        check: (signal) => checkPolicyFileOffThread(file, file, signal).then((c) => modelOf(file, c)),
        databaseUrl: flags.databaseUrl,
        registrySchema: flags.registrySchema,
        prune: Boolean(flags.prune),
        full: Boolean(flags.full),
        env: process.env,
      }).catch((e: unknown) => {
        throw translate(e);
      });
      if (result.kind === 'converged') {
        out(renderPlan({ steps: [], records: [], notes: [], errors: [] }, flags.format));
        err(convergedNote(result.recordedAt));
        return;
      }
      if (result.kind === 'invalid') reportInvalid(file, result);
      printDiagnostics(result.warnings);
      out(renderPlan(result.plan, flags.format));
      for (const note of result.plan.notes) err(`note: ${note}`);
      if (result.plan.errors.length > 0) refuse(result);
      if (flags.detailedExitcode && result.plan.steps.length > 0) process.exitCode = 2;
      if (flags.failOn === 'widening' && planWidens(result.plan, Boolean(flags.allowReview))) process.exitCode = 2;
    });

  withConnection(program.command('apply'))
    .description('make the database match the policy file: one transaction, under an advisory lock')
    .argument('<file>', 'the policy file')
    .option('-y, --yes', 'apply without asking for confirmation')
    .option('--dry-run', 'run the whole plan inside the transaction, then roll it back')
    .option('--prune', 'drop login roles that tenantctl created and the file no longer lists')
    .addOption(lockTimeoutOption('5s'))
    .option('--attempts <n>', 'tries when a table lock is not granted within --lock-timeout', '3')
    .addOption(new Option('--format <format>', 'how to show the plan').choices(['text', 'json', 'sql', 'markdown']).default('text'))
    .addOption(failOnOption('refuse to apply (exit 1, nothing changed)'))
    .option('--allow-review', 'with --fail-on widening: do not count review steps (changed expressions) as widening')
    .addHelpText('after', '\nExamples:\n  $ tenantctl apply policies.yaml --yes --fail-on widening   # a deploy that may only narrow access\n  $ tenantctl apply policies.yaml               # shows the plan and asks\n  $ tenantctl apply policies.yaml --yes         # in a deploy job\n  $ tenantctl apply policies.yaml --dry-run     # prove the plan applies, change nothing')
    .action(async (file: string, flags: PlanFlags & { yes?: boolean; dryRun?: boolean; lockTimeout: string; attempts: string }) => {
      checkReviewFlags(flags);
      const { model, warnings } = await validModel(file);
      const attempts = Number(flags.attempts);
      if (!Number.isInteger(attempts) || attempts < 1) throw new CliError(`--attempts must be a positive whole number, got "${flags.attempts}"`);
      const [{ apply }, { connect, describeTarget }, { inputKey }, { sha256Hex }] = await Promise.all([
        import('../../apply/apply.js'),
        import('../../pg/connect.js'),
        import('../../apply/converged.js'),
        import('../../apply/plan-file.js'),
      ]);
      const fileSha256 = sha256Hex(readFileSync(file));
      const sql = connect({ databaseUrl: flags.databaseUrl, max: 1, applicationName: 'tenantctl apply' });
      try {
        const outcome = await apply(sql, model, {
          registrySchema: flags.registrySchema,
          env: process.env,
          plan: { prune: Boolean(flags.prune) },
          lockTimeoutMs: durationMs(flags.lockTimeout, '--lock-timeout'),
          attempts,
          dryRun: Boolean(flags.dryRun),
          fileHash: fileSha256,
          converged: { input: inputKey({ fileSha256, prune: Boolean(flags.prune), registrySchema: flags.registrySchema }), fileWarnings: warnings },
          fileName: basename(file),
          log: (line) => err(line),
          confirm: async (result) => {
            printDiagnostics(result.warnings);
            out(renderPlan(result.plan, flags.format));
            for (const note of result.plan.notes) err(`note: ${note}`);
            if (flags.failOn === 'widening' && planWidens(result.plan, Boolean(flags.allowReview))) {
              const n = result.plan.steps.filter((s) => s.effect === 'widens' || (s.effect === 'review' && !flags.allowReview)).length;
              throw new CliError(`refusing to apply with --fail-on widening: ${plural(n, 'step')} would widen access${flags.allowReview ? '' : ' or need review'}; nothing was applied`);
            }
            if (flags.yes || flags.dryRun) return true;
            if (!process.stdin.isTTY) throw new CliError('refusing to apply without confirmation: standard input is not a terminal; pass --yes');
            return confirm(`Apply these changes to ${describeTarget(sql)}?`);
          },
        }).catch((e: unknown) => {
          throw translate(e);
        });
        switch (outcome.kind) {
          case 'invalid':
            reportInvalid(file, outcome.result);
          // falls through: reportInvalid throws
          case 'refused':
            refuse(outcome.result);
          // falls through: refuse throws
          case 'no-changes':
            for (const note of outcome.result.plan.notes) err(`note: ${note}`);
            out('No changes.');
            return;
          case 'cancelled':
            throw new CliError('apply cancelled; nothing was changed');
          case 'dry-run':
            out(colour.yellow(`Dry run: every statement ran and was rolled back. ${summaryLine(outcome.result.plan).replace('Plan:', 'Would apply:')}`));
            return;
          case 'applied': {
            const s = summaryLine(outcome.result.plan).replace(/^Plan: (\d+) to add, (\d+) to change, (\d+) to remove\.$/, '$1 added, $2 changed, $3 removed.');
            out(colour.green(`Apply complete: ${s}`));
          }
        }
      } finally {
        await sql.end({ timeout: 5 });
      }
    });
}
