// The shape of a version 1 policy file (design/policy-language.md). Structure only: names, references,
// expressions and other meaning are checked in validate.ts, where every problem gets a file position.
import { z } from 'zod';

export const ATTRIBUTE_TYPES = ['text', 'uuid', 'bigint', 'boolean', 'text[]'] as const;
export type AttributeType = (typeof ATTRIBUTE_TYPES)[number];

const name = (what: string) => z.string().min(1).describe(what);

export const PasswordSchema = z
  .union([
    z.strictObject({ env: z.string().min(1).describe('name of the environment variable that holds the password') }),
    z.strictObject({ scram: z.string().min(1).describe('a SCRAM-SHA-256 verifier, as stored in pg_authid.rolpassword') }),
    z.strictObject({ value: z.string().describe('the password in clear text: for demos only (validate warns)') }),
  ])
  .describe('{ env: VAR } | { scram: VERIFIER } | { value: TEXT } (the LOGIN password; value is for demos only)');

export const AttributeValueSchema = z
  .union([z.string(), z.int(), z.boolean(), z.array(z.string())])
  .describe('an attribute value: string (text), integer (bigint), boolean, or list of strings (text[])');

const access = z
  .enum(['read', 'readwrite'])
  .default('read')
  .describe('read (default): SELECT only; readwrite: also INSERT/UPDATE/DELETE within the row filters');

const connectionLimit = z.int().min(0).optional().describe('maximum concurrent connections (CONNECTION LIMIT)');

export const RoleSchema = z
  .strictObject({
    name: name('the NOLOGIN group role name'),
    description: z.string().optional().describe('free text'),
  })
  .describe('a NOLOGIN group role; assignments may target it, users listed with `roles:` are members');

export const UserSchema = z
  .strictObject({
    name: name('the LOGIN role name'),
    password: PasswordSchema.optional(),
    tenant: z.string().optional().describe('the tenant slug, read by {user.tenant} and {user.tenant_id}'),
    attributes: z
      .record(z.string(), AttributeValueSchema)
      .optional()
      .describe('typed attributes, read by {user.<attribute>}'),
    roles: z.array(z.string()).optional().describe('group roles (from `roles:`) this user is a member of'),
    access,
    connection_limit: connectionLimit,
    description: z.string().optional().describe('free text'),
  })
  .describe('a LOGIN role for a person (psql, BI tools)');

export const ContextEntrySchema = z
  .union([
    z.string().describe('the transaction-local setting (a custom GUC such as app.current_tenant), read as text'),
    z.strictObject({
      setting: z.string().describe('the transaction-local setting (a custom GUC such as app.current_tenant_id)'),
      type: z.enum(ATTRIBUTE_TYPES).optional().describe('the type the setting is cast to (default: the attribute type)'),
    }),
  ])
  .describe('setting name, or { setting, type }');

export const AppSchema = z
  .strictObject({
    name: name('the LOGIN role name of the application pool'),
    password: PasswordSchema.optional(),
    context: z
      .record(z.string(), ContextEntrySchema)
      .optional()
      .describe('attribute -> transaction-local setting the app sets with SET LOCAL in each transaction'),
    access,
    connection_limit: connectionLimit,
    description: z.string().optional().describe('free text'),
  })
  .describe('a pooled application role: {user.X} reads the transaction-local setting that `context` maps X to');

const tableName = z.string().min(1).describe('table name, schema.name, or a glob such as "*" or "raw_*"');
const policyCommon = {
  name: name('unique policy name'),
  description: z.string().optional().describe('free text'),
  table: tableName.optional().describe('one target table (use `table` or `tables`)'),
  tables: z.array(tableName).min(1).optional().describe('target tables: names, schema.name, or globs'),
  allow_refs: z
    .array(z.string().min(1))
    .optional()
    .describe('relations (name or schema.name) outside the governed schemas that the expression may read'),
};

const RowFilterSchema = z
  .strictObject({
    type: z.literal('row_filter'),
    ...policyCommon,
    filter: z.string().describe('SQL boolean expression; rows are visible and writable only where it is true'),
  })
  .describe('row_filter: rows visible (and writable) only where `filter` is true');

const ColumnMaskSchema = z
  .strictObject({
    type: z.literal('column_mask'),
    ...policyCommon,
    column: z.string().min(1).describe('the masked column'),
    mask: z.string().describe('SQL expression over the row that the column reads as'),
  })
  .describe('column_mask: the column reads as `mask`');

const ColumnDenySchema = z
  .strictObject({
    type: z.literal('column_deny'),
    ...policyCommon,
    columns: z.array(z.string().min(1)).min(1).describe('columns that do not exist for the user'),
  })
  .describe('column_deny: the columns do not exist for the user');

const ColumnAllowSchema = z
  .strictObject({
    type: z.literal('column_allow'),
    ...policyCommon,
    columns: z
      .array(z.string().min(1))
      .min(1)
      .optional()
      .describe('readable columns; ["*"] (the default) means all'),
  })
  .describe('column_allow: makes tables readable in policy_required mode; with a column list only those exist');

const TableDenySchema = z
  .strictObject({ type: z.literal('table_deny'), ...policyCommon })
  .describe('table_deny: the tables do not exist for the user');

export const PolicySchema = z.discriminatedUnion('type', [
  RowFilterSchema,
  ColumnMaskSchema,
  ColumnDenySchema,
  ColumnAllowSchema,
  TableDenySchema,
]);

export const SelectorSchema = z
  .union([
    z.strictObject({ user: z.string().min(1).describe('a user name') }),
    z.strictObject({ app: z.string().min(1).describe('an app name') }),
    z.strictObject({ role: z.string().min(1).describe('a role name; applies to its member users') }),
  ])
  .describe('{ user: NAME } | { app: NAME } | { role: NAME }');

const AllSchema = z.literal('all').describe('every user and every app');
const TargetItemSchema = z.union([AllSchema, SelectorSchema]);
export const TargetSchema = z
  .union([TargetItemSchema, z.array(TargetItemSchema).min(1)])
  .describe('all | { user: NAME } | { app: NAME } | { role: NAME } | a list of those');

export const AssignmentSchema = z
  .strictObject({
    policy: z.string().min(1).describe('the policy name'),
    to: TargetSchema,
    except: TargetSchema.optional().describe('principals excluded from `to` (same shapes)'),
    priority: z.int().default(100).describe('mask priority: the lowest wins (default 100)'),
  })
  .describe('applies a policy to principals');

export const PolicyFileSchema = z
  .strictObject({
    version: z.literal(1).describe('the policy language version: 1'),
    mode: z
      .enum(['policy_required', 'open'])
      .default('policy_required')
      .describe('policy_required (default): a table is readable only through an assigned row_filter or column_allow; open: every governed table is readable'),
    schemas: z.array(z.string().min(1)).min(1).default(['public']).describe('schemas whose tables are governed (default [public])'),
    roles: z.array(RoleSchema).default([]).describe('NOLOGIN group roles'),
    users: z.array(UserSchema).default([]).describe('LOGIN roles for people'),
    apps: z.array(AppSchema).default([]).describe('pooled application roles'),
    policies: z.array(PolicySchema).default([]).describe('policy definitions; unassigned policies compile into nothing'),
    assignments: z.array(AssignmentSchema).default([]).describe('which policies apply to whom'),
  })
  .describe('tenantctl policy file, version 1');

export type PolicyFileInput = z.input<typeof PolicyFileSchema>;
export type PolicyFileData = z.output<typeof PolicyFileSchema>;
export type PolicyData = z.output<typeof PolicySchema>;
export type SelectorData = z.output<typeof SelectorSchema>;
export type TargetData = z.output<typeof TargetSchema>;

/** The JSON Schema (draft 2020-12) of the policy file, for editors (`# yaml-language-server: $schema=...`). */
export function policyJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(PolicyFileSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tenantctl policy file (version 1)',
    ...schema,
  };
}
