// The policy stage end to end: file -> YAML -> schema -> model -> semantic checks. No database.
import { sortDiagnostics, uniqueDiagnostics, type Diagnostic } from './diagnostic.js';
import { loadPolicyFile, parsePolicyText, type LoadResult } from './load.js';
import type { PolicyModel } from './model.js';
import { normalise } from './normalise.js';
import { loadSqlParser } from './pg-parser.js';
import { PolicyFileSchema } from './schema.js';
import { schemaDiagnostics } from './schema-issues.js';
import { validateModel } from './validate.js';

export interface CheckResult {
  /** Present only when there are no errors. */
  readonly model?: PolicyModel;
  readonly errors: readonly Diagnostic[];
  readonly warnings: readonly Diagnostic[];
}

/** Check a policy file; `file` is the name used in messages (default: the path as given). */
export async function checkPolicyFile(path: string, file: string = path): Promise<CheckResult> {
  await loadSqlParser();
  return finish(loadPolicyFile(path, file));
}

/** Check policy text, as if read from `file`. */
export async function checkPolicyText(text: string, file = 'policies.yaml'): Promise<CheckResult> {
  await loadSqlParser();
  return finish(parsePolicyText(text, file));
}

function finish(loaded: LoadResult): CheckResult {
  if (!loaded.ok) return split(loaded.diagnostics);
  const parsed = PolicyFileSchema.safeParse(loaded.value);
  if (!parsed.success) {
    return split([...loaded.diagnostics, ...schemaDiagnostics(loaded.source, PolicyFileSchema, loaded.value, parsed.error.issues)]);
  }
  const { model, diagnostics } = normalise(loaded.source, parsed.data);
  const all = split([...loaded.diagnostics, ...diagnostics, ...validateModel(model)]);
  return all.errors.length === 0 ? { ...all, model } : all;
}

function split(list: readonly Diagnostic[]): CheckResult {
  const sorted = sortDiagnostics(uniqueDiagnostics(list));
  return { errors: sorted.filter((d) => d.severity === 'error'), warnings: sorted.filter((d) => d.severity === 'warning') };
}

/** Thrown by loadPolicyModel when the file has errors. */
export class PolicyFileError extends Error {
  constructor(readonly errors: readonly Diagnostic[], readonly warnings: readonly Diagnostic[]) {
    super(`${errors[0]?.file ?? 'policy file'}: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
    this.name = 'PolicyFileError';
  }
}

/** The model of a valid file (for plan/apply/diff), or a PolicyFileError carrying every diagnostic. */
export async function loadPolicyModel(path: string, file: string = path): Promise<{ model: PolicyModel; warnings: readonly Diagnostic[] }> {
  const result = await checkPolicyFile(path, file);
  if (!result.model) throw new PolicyFileError(result.errors, result.warnings);
  return { model: result.model, warnings: result.warnings };
}
