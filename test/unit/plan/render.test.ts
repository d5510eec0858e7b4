// policyRenderer (renderPolicy remembered within one plan) renders every policy as renderPolicy does.
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { CatalogPolicy } from '../../../src/catalog/types.js';
import { policyRenderer, renderPolicy } from '../../../src/plan/render.js';

const text = fc.option(fc.constantFrom('(org = x)', '(org = y)', 'true', '"q" = \'\\\\\''), { nil: undefined });
const policy: fc.Arbitrary<CatalogPolicy> = fc
  .record({
    schema: fc.constantFrom('public', 's'),
    table: fc.constantFrom('t1', 't2'),
    name: fc.constantFrom('p', 'tenantctl_a'),
    command: fc.constantFrom('r', 'a', 'w', 'd', '*'),
    permissive: fc.boolean(),
    // Mostly one role (what is remembered), sometimes none or several (rendered each time).
    roles: fc.oneof({ arbitrary: fc.constantFrom(['r1'], ['r2']), weight: 4 }, { arbitrary: fc.array(fc.constantFrom('r1', 'r2', 'public'), { maxLength: 3 }), weight: 1 }),
    using: text,
    withCheck: text,
  })
  .map(({ using, withCheck, ...p }) => ({ ...p, ...(using === undefined ? {} : { using }), ...(withCheck === undefined ? {} : { withCheck }) }) as CatalogPolicy);

describe('policyRenderer', () => {
  test('renders each policy as renderPolicy does, in any sequence', () => {
    fc.assert(
      fc.property(fc.array(policy, { minLength: 10, maxLength: 60 }), (policies) => {
        const render = policyRenderer();
        for (const p of policies) expect(render(p)).toBe(renderPolicy(p));
      }),
      { numRuns: 500 },
    );
  });
});
