// The normalised policy model that the compiler consumes. Immutable data: defaults filled in, `table`/`tables`
// unified, assignment targets as principal selectors, expressions parsed, and a source position on everything.
import type { SourcePos } from './diagnostic.js';
import type { AttributeType } from './schema.js';

export type { AttributeType } from './schema.js';
export type { SourcePos } from './diagnostic.js';

export interface Located {
  readonly pos: SourcePos;
}

/** A name written in the file, with where it was written. */
export interface NameRef extends Located {
  readonly name: string;
}

export type AttributeValue = string | number | boolean | readonly string[];
export type Access = 'read' | 'readwrite';
export type Mode = 'policy_required' | 'open';

/** Never print `value` or `verifier`. */
export type PasswordSource = (
  | { readonly kind: 'env'; readonly variable: string }
  | { readonly kind: 'scram'; readonly verifier: string }
  | { readonly kind: 'value'; readonly value: string }
) &
  Located;

export interface RoleDef extends Located {
  readonly kind: 'role';
  readonly name: string;
  readonly description?: string;
}

export interface Attribute extends Located {
  readonly name: string;
  readonly value: AttributeValue;
  /** string -> text, integer -> bigint, boolean -> boolean, list of strings -> text[] */
  readonly type: AttributeType;
}

export interface UserDef extends Located {
  readonly kind: 'user';
  readonly name: string;
  readonly password?: PasswordSource;
  readonly tenant?: NameRef;
  readonly attributes: readonly Attribute[];
  /** Group roles this user is a member of. */
  readonly roles: readonly NameRef[];
  readonly access: Access;
  readonly connectionLimit?: number;
}

/** attribute -> transaction-local setting, for an app. */
export interface ContextSetting extends Located {
  readonly attribute: string;
  readonly setting: string;
  /** The declared type, else the attribute's type (built-in or from users), else text. */
  readonly type: AttributeType;
}

export interface AppDef extends Located {
  readonly kind: 'app';
  readonly name: string;
  readonly password?: PasswordSource;
  readonly context: readonly ContextSetting[];
  readonly access: Access;
  readonly connectionLimit?: number;
}

export type Principal = UserDef | AppDef;

/** A target table (or a relation in allow_refs): `name`, `schema.name`, or a glob over names. */
export interface TableRef extends Located {
  /** Absent when written unqualified: then it means that name in every governed schema. */
  readonly schema?: string;
  /** The name, or the glob pattern when `glob` is true (`*` any run of characters, `?` one character). */
  readonly name: string;
  readonly glob: boolean;
}

/** `{user.X}` found in an expression. Offsets index `Expression.text`; [start, end). */
export interface Template {
  readonly attribute: string;
  readonly start: number;
  readonly end: number;
  readonly type: AttributeType;
  readonly pos: SourcePos;
}

/** Offsets index `Expression.text` (placeholders keep every offset in place). */
export interface ColumnRef {
  /** e.g. ['o'] for `o.org`; empty when unqualified. */
  readonly qualifier: readonly string[];
  readonly name: string;
  readonly offset: number;
}

export interface RelationRef {
  readonly schema?: string;
  readonly name: string;
  readonly offset: number;
}

export interface FunctionRef {
  readonly schema?: string;
  readonly name: string;
  readonly offset: number;
}

/** Something the parser-level checks rejected; validate.ts turns it into an error at that offset. */
export interface ExpressionProblem {
  readonly offset: number;
  readonly message: string;
}

/**
 * A top-level AND conjunct `<bare column> = <bare template>` of an expression (either way round): the column
 * reference's fields as written (`org`, `orders.org`, ...) and the index of the template in `templates`.
 */
export interface TemplateEquality {
  readonly fields: readonly string[];
  readonly template: number;
}

/** A `filter` or `mask`: the source text and what the real PostgreSQL parser found in it. */
export interface Expression extends Located {
  readonly text: string;
  readonly templates: readonly Template[];
  /** `text` with each template replaced by a parameter `$n` padded to the template's length. */
  readonly parsedText: string;
  readonly columns: readonly ColumnRef[];
  /** Relations read in subqueries (CTE names excluded). */
  readonly relations: readonly RelationRef[];
  readonly functions: readonly FunctionRef[];
  readonly problems: readonly ExpressionProblem[];
  /** Its top-level `column = template` conjuncts (compile/guard.ts leaves out the visibility guard for them). */
  readonly equalities: readonly TemplateEquality[];
  /** File position of each character of `text` (and one past the end). */
  readonly charPos: readonly SourcePos[];
}

interface PolicyBase extends Located {
  readonly name: string;
  readonly description?: string;
  readonly tables: readonly TableRef[];
  /** Relations outside the governed schemas that this policy's expression may read. */
  readonly allowRefs: readonly TableRef[];
}

export interface RowFilterPolicy extends PolicyBase {
  readonly type: 'row_filter';
  readonly filter: Expression;
}
export interface ColumnMaskPolicy extends PolicyBase {
  readonly type: 'column_mask';
  readonly column: NameRef;
  readonly mask: Expression;
}
export interface ColumnDenyPolicy extends PolicyBase {
  readonly type: 'column_deny';
  readonly columns: readonly NameRef[];
}
export interface ColumnAllowPolicy extends PolicyBase {
  readonly type: 'column_allow';
  /** 'all' for `["*"]` or no `columns` key. */
  readonly columns: readonly NameRef[] | 'all';
}
export interface TableDenyPolicy extends PolicyBase {
  readonly type: 'table_deny';
}

export type Policy = RowFilterPolicy | ColumnMaskPolicy | ColumnDenyPolicy | ColumnAllowPolicy | TableDenyPolicy;
export type PolicyType = Policy['type'];

export type PrincipalSelector =
  | ({ readonly kind: 'all' } & Located)
  | ({ readonly kind: 'user' | 'app' | 'role'; readonly name: string } & Located);

export interface Assignment extends Located {
  /** Position in the file's `assignments` list (0-based). */
  readonly index: number;
  readonly policy: string;
  readonly to: readonly PrincipalSelector[];
  readonly except: readonly PrincipalSelector[];
  /** Default 100; orders masks only (the lowest wins). */
  readonly priority: number;
}

export interface PolicyModel {
  readonly file: string;
  readonly version: 1;
  readonly mode: Mode;
  readonly schemas: readonly NameRef[];
  readonly roles: readonly RoleDef[];
  readonly users: readonly UserDef[];
  readonly apps: readonly AppDef[];
  readonly policies: readonly Policy[];
  readonly assignments: readonly Assignment[];
  /** The type of every attribute a template may read: built-ins plus users' attributes and apps' context. */
  readonly attributeTypes: Readonly<Record<string, AttributeType>>;
}

export const BUILTIN_ATTRIBUTES: Readonly<Record<string, AttributeType>> = { name: 'text', tenant: 'text', tenant_id: 'uuid' };
