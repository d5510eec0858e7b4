// The shape of a `tenantctl test` file (docs/testing.md): a list of assertions, each run as one user or app in
// its own transaction that is rolled back.
import { z } from 'zod';

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const PrincipalRefSchema = z
  .union([
    z.string().min(1).describe('a user (LOGIN role) of the policy file'),
    z.strictObject({ user: z.string().min(1) }),
    z.strictObject({ app: z.string().min(1) }),
  ])
  .describe('who runs the SQL: `alice`, `{ user: alice }` or `{ app: storefront }`');

export const ExpectedErrorSchema = z
  .union([
    z.string().min(1).describe('a substring of the error message'),
    z
      .strictObject({
        sqlstate: z.string().regex(/^[0-9A-Z]{5}$/).optional().describe('the five-character SQLSTATE, e.g. 42703'),
        message: z.string().min(1).optional().describe('a substring of the error message'),
      })
      .refine((e) => e.sqlstate !== undefined || e.message !== undefined, 'give sqlstate, message or both'),
  ])
  .describe('the statement must fail: a message substring, or { sqlstate, message }');

export const AssertionSchema = z
  .strictObject({
    name: z.string().min(1).optional().describe('shown in the output; default "<as>: <sql>"'),
    as: PrincipalRefSchema,
    context: z
      .record(z.string().min(1), z.union([z.string(), z.number(), z.boolean()]))
      .optional()
      .describe("for apps: attribute (as in the app's `context`) or setting name -> value, set with set_config(..., true)"),
    sql: z.string().min(1).describe('one SQL statement'),
    rows: z.array(z.record(z.string(), Scalar)).optional().describe('exactly these rows, in this order (values compared as text)'),
    row_count: z.int().min(0).optional().describe('exactly this many rows'),
    no_rows: z.literal(true).optional().describe('no rows at all'),
    columns: z
      .strictObject({
        present: z.array(z.string().min(1)).optional(),
        absent: z.array(z.string().min(1)).optional(),
      })
      .optional()
      .describe('columns the result has (present) and has not (absent)'),
    error: ExpectedErrorSchema.optional(),
  })
  .refine((a) => ['rows', 'row_count', 'no_rows', 'columns', 'error'].some((k) => (a as Record<string, unknown>)[k] !== undefined), {
    message: 'an assertion needs an expectation: rows, row_count, no_rows, columns or error',
  })
  .refine((a) => a.error === undefined || (a.rows === undefined && a.row_count === undefined && a.no_rows === undefined && a.columns === undefined), {
    message: 'error cannot be combined with rows, row_count, no_rows or columns',
  });

export const TestFileSchema = z
  .strictObject({
    version: z.literal(1).describe('the test file format version'),
    description: z.string().optional(),
    tests: z.array(AssertionSchema).min(1),
  })
  .describe('tenantctl policy tests');

export type Assertion = z.infer<typeof AssertionSchema>;
export type TestFile = z.infer<typeof TestFileSchema>;
export type PrincipalRef = z.infer<typeof PrincipalRefSchema>;

export function testFileJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(TestFileSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return { $id: 'https://tenantctl.dev/schema/tests-v1.json', title: 'tenantctl policy tests', ...schema };
}
