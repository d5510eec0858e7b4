// Semantic checks of a normalised model. Offline and pure: every problem is collected, none stops the rest.
import type { Diagnostic } from './diagnostic.js';
import { principals } from './effective.js';
import type { PolicyModel } from './model.js';
import { checkAssignment, checkMaskTies, checkTenantNeeded } from './validate-assignments.js';
import { checkPolicy, checkPolicyNames } from './validate-policies.js';
import { checkApp, checkNames, checkSchemas, checkUser } from './validate-principals.js';

export function validateModel(model: PolicyModel): Diagnostic[] {
  return [
    ...checkNames(model),
    ...checkSchemas(model),
    ...model.users.flatMap((u) => checkUser(model, u)),
    ...model.apps.flatMap((a) => checkApp(model, a)),
    ...checkPolicyNames(model),
    ...model.policies.flatMap((p) => checkPolicy(model, p)),
    ...model.assignments.flatMap((a) => checkAssignment(model, a)),
    ...principals(model).flatMap((p) => checkTenantNeeded(model, p)),
    ...checkMaskTies(model),
  ];
}
