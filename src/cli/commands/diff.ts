// tenantctl diff OLD NEW | --base REV FILE: the semantic difference between two policy files, offline.
import { execFileSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import { Option, type Command } from 'commander';
import { diffPolicies, widens } from '../../diff/diff.js';
import { renderDiff, type DiffFormat } from '../../diff/render.js';
import { checkPolicyFile, checkPolicyText, type CheckResult } from '../../policy/check.js';
import type { PolicyModel } from '../../policy/model.js';
import { plural, printDiagnostics } from '../diagnostics.js';
import { CliError } from '../errors.js';
import { err, out } from '../output.js';

interface DiffFlags {
  format: DiffFormat;
  exitCode?: boolean;
  failOn?: 'widening';
  allowReview?: boolean;
  base?: string;
}

function valid(result: CheckResult, name: string): PolicyModel {
  printDiagnostics([...result.errors, ...result.warnings]);
  if (!result.model || result.errors.length > 0) throw new CliError(`${name} is not valid: ${plural(result.errors.length, 'error')}; nothing was compared`);
  return result.model;
}

/** The file at a git revision, or undefined when the revision has no such file. Errors name git's reason. */
function gitShow(rev: string, file: string): string | undefined {
  const cwd = dirname(file);
  const spec = `${rev}:./${basename(file)}`;
  const git = (args: string[]): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 16 * 1024 * 1024 });
  try {
    git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  } catch (e) {
    const stderr = String((e as { stderr?: string }).stderr ?? '').trim();
    if ((e as { code?: string }).code === 'ENOENT') throw new CliError('--base needs git, and git is not on PATH');
    throw new CliError(`--base ${rev}: ${stderr || `not a revision of a git repository at ${cwd}`}`);
  }
  try {
    git(['cat-file', '-e', spec]);
  } catch {
    return undefined;
  }
  return git(['show', spec]);
}

/** A file with nothing in it: what the base side is when the file is new in this branch. */
function emptyModel(like: PolicyModel, file: string): PolicyModel {
  return { ...like, file, mode: like.mode, schemas: like.schemas, roles: [], users: [], apps: [], policies: [], assignments: [] };
}

export function registerDiff(program: Command): void {
  program
    .command('diff')
    .description('compare two policy files by effect, per user, app and role and per table (offline: no database)')
    .argument('[old]', 'the policy file before (omit with --base)')
    .argument('[new]', 'the policy file after')
    .option('--base <rev>', 'read the old file from this git revision (git show REV:FILE), e.g. origin/main; then give only FILE')
    .addOption(new Option('--format <format>', 'output format').choices(['text', 'json', 'markdown']).default('text'))
    .option('--exit-code', 'exit 2 when anything changed, 0 when nothing did')
    .addOption(new Option('--fail-on <what>', 'exit 2 when any principal gains access (review counts unless --allow-review)').choices(['widening']))
    .option('--allow-review', 'with --fail-on widening: do not count changed expressions (review) as widening')
    .addHelpText(
      'after',
      `
Compares what each user, app and role may read and write, table by table: readable or not, row filters
(compared as parse trees, so formatting and conjunct order do not count), visible columns, masks, write
access, the mode. Reordering, renaming policies and reformatting YAML are no change.
Each change is labelled widens, narrows, review (a changed expression) or neutral.
Exit codes: 0 no change (or none that fails the check), 1 error, 2 with --exit-code when anything changed or
with --fail-on widening when anyone gains access.

Examples:
  $ tenantctl diff old/policies.yaml policies.yaml
  $ tenantctl diff --base origin/main policies.yaml --format markdown > diff.md
  $ tenantctl diff --base origin/main policies.yaml --fail-on widening   # in CI: 2 when access widens`,
    )
    .action(async (first: string | undefined, second: string | undefined, flags: DiffFlags) => {
      if (flags.allowReview && !flags.failOn) throw new CliError('--allow-review only makes sense with --fail-on widening');
      let before: PolicyModel;
      let after: PolicyModel;
      let sides: { old: string; new: string };
      if (flags.base !== undefined) {
        if (first === undefined || second !== undefined) throw new CliError('with --base, give exactly one file: tenantctl diff --base REV FILE');
        after = valid(await checkPolicyFile(first), first);
        const name = `${flags.base}:${first}`;
        const text = gitShow(flags.base, first);
        if (text === undefined) {
          err(`note: ${first} does not exist at ${flags.base}: comparing with an empty policy file`);
          before = emptyModel(after, name);
        } else before = valid(await checkPolicyText(text, name), name);
        sides = { old: name, new: first };
      } else {
        if (first === undefined || second === undefined) throw new CliError('give two files (tenantctl diff OLD NEW), or --base REV FILE');
        before = valid(await checkPolicyFile(first), first);
        after = valid(await checkPolicyFile(second), second);
        sides = { old: first, new: second };
      }
      const result = diffPolicies(before, after);
      out(renderDiff(result, flags.format, sides));
      if ((flags.exitCode && result.changes.length > 0) || (flags.failOn === 'widening' && widens(result.changes, Boolean(flags.allowReview)))) {
        process.exitCode = 2;
      }
    });
}
