import { checkPolicyText } from '../../../src/policy/check.js';
import type { Diagnostic } from '../../../src/policy/diagnostic.js';

/** `LINE:COL: message` plus ` (did you mean X)` for each diagnostic, as the tests assert them. */
export function brief(d: Diagnostic): string {
  return `${d.line}:${d.column}: ${d.message}${d.suggestion === undefined ? '' : ` (did you mean ${d.suggestion})`}`;
}

export async function errorsOf(text: string): Promise<string[]> {
  return (await checkPolicyText(text)).errors.map(brief);
}

export async function warningsOf(text: string): Promise<string[]> {
  return (await checkPolicyText(text)).warnings.map(brief);
}

/** A small valid file (one tenant user with attributes) followed by the given `policies:` items and more. */
export function withPolicies(rest: string): string {
  return `version: 1
users:
  - name: alice
    tenant: acme
    attributes: { region: eu, clearance: 2, teams: [a, b] }
policies:
${rest}`;
}
