// The policy stage's public surface: what plan/apply/diff and the compiler use.
export * from './model.js';
export { checkPolicyFile, checkPolicyText, loadPolicyModel, PolicyFileError, type CheckResult } from './check.js';
export { formatDiagnostic, type Diagnostic, type Severity } from './diagnostic.js';
export { effectiveAssignments, effectivePolicies, principals, selects, VIA_RANK, type EffectiveAssignment, type Via } from './effective.js';
export { chooseMask, findMaskTies, type MaskAssignment, type MaskChoice, type MaskTie } from './masks.js';
export { compiledTemplate, renderExpression, templateAttributes } from './templates.js';
export { globToRegExp, tableRefMatches, tableRefsOverlap, tableRefText } from './tables.js';
export { policyJsonSchema, PolicyFileSchema, ATTRIBUTE_TYPES } from './schema.js';
export { loadSqlParser } from './pg-parser.js';
