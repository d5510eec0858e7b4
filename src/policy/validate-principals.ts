// Checks on roles, users, apps and schemas: names, tenants, attributes, settings, passwords.
import { error, warning, type Diagnostic, type SourcePos } from './diagnostic.js';
import { BUILTIN_ATTRIBUTES, type AppDef, type PasswordSource, type PolicyModel, type UserDef } from './model.js';
import {
  ATTRIBUTE_NAME,
  CUSTOM_SETTING,
  ENV_NAME,
  isSystemSchema,
  roleNameProblem,
  SCRAM_VERIFIER,
  TENANT_SLUG,
  typeWords,
} from './names.js';
import { suggest } from './suggest.js';

const KIND_WORD = { user: 'user', app: 'app', role: 'role' } as const;

export function checkNames(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Map<string, { kind: 'user' | 'app' | 'role'; pos: SourcePos }>();
  const all = [
    ...model.roles.map((r) => ({ kind: 'role' as const, name: r.name, pos: r.pos })),
    ...model.users.map((u) => ({ kind: 'user' as const, name: u.name, pos: u.pos })),
    ...model.apps.map((a) => ({ kind: 'app' as const, name: a.name, pos: a.pos })),
  ].sort((a, b) => a.pos.line - b.pos.line || a.pos.column - b.pos.column);
  for (const p of all) {
    const problem = roleNameProblem(p.name);
    if (problem) out.push(error(p.pos, `${KIND_WORD[p.kind]} name \`${p.name}\` ${problem}`));
    const first = seen.get(p.name);
    if (!first) seen.set(p.name, p);
    else if (first.kind === p.kind) out.push(error(p.pos, `duplicate ${p.kind} \`${p.name}\` (first defined at line ${first.pos.line})`));
    else out.push(error(p.pos, `\`${p.name}\` is already ${article(first.kind)} (line ${first.pos.line}); one name cannot be both ${article(first.kind)} and ${article(p.kind)}`));
  }
  return out;
}

function article(kind: 'user' | 'app' | 'role'): string {
  return kind === 'app' ? 'an app' : `a ${kind}`;
}

export function checkSchemas(model: PolicyModel): Diagnostic[] {
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const s of model.schemas) {
    if (isSystemSchema(s.name)) out.push(error(s.pos, `schema \`${s.name}\` cannot be governed: it is a system or tenantctl schema`));
    if (seen.has(s.name)) out.push(warning(s.pos, `schema \`${s.name}\` is listed twice`));
    seen.add(s.name);
  }
  return out;
}

export function checkPassword(owner: string, password: PasswordSource | undefined): Diagnostic[] {
  if (!password) return [];
  switch (password.kind) {
    case 'value':
      return [warning(password.pos, `${owner}: a clear-text \`password: { value }\` is for demos only; use { env: VAR } or { scram: VERIFIER }`)];
    case 'env':
      return ENV_NAME.test(password.variable) ? [] : [error(password.pos, `${owner}: \`env\` must name an environment variable (letters, digits, _)`)];
    case 'scram':
      return SCRAM_VERIFIER.test(password.verifier)
        ? []
        : [error(password.pos, `${owner}: \`scram\` is not a SCRAM-SHA-256 verifier (SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>)`)];
  }
}

export function checkUser(model: PolicyModel, user: UserDef): Diagnostic[] {
  const out: Diagnostic[] = [...checkPassword(`user \`${user.name}\``, user.password)];
  if (user.tenant && !TENANT_SLUG.test(user.tenant.name)) {
    out.push(error(user.tenant.pos, `tenant \`${user.tenant.name}\` is not a tenant slug: 3-40 characters, lowercase letters, digits and '-', starting and ending with a letter or digit`));
  }
  const roleNames = model.roles.map((r) => r.name);
  for (const r of user.roles) {
    if (roleNames.includes(r.name)) continue;
    const other = model.users.some((u) => u.name === r.name) ? 'a user' : model.apps.some((a) => a.name === r.name) ? 'an app' : undefined;
    out.push(
      other
        ? error(r.pos, `\`${r.name}\` is ${other}, not a role; \`roles:\` lists group roles from the top-level \`roles\``)
        : error(r.pos, `unknown role \`${r.name}\` in user \`${user.name}\``, suggest(r.name, roleNames)),
    );
  }
  for (const a of user.attributes) {
    if (a.name in BUILTIN_ATTRIBUTES) {
      out.push(error(a.pos, `\`${a.name}\` is a built-in attribute and cannot be set in \`attributes\`${a.name === 'tenant' ? '; use the user\'s `tenant` key' : ''}`));
      continue;
    }
    if (!ATTRIBUTE_NAME.test(a.name)) {
      out.push(error(a.pos, `attribute name \`${a.name}\` must be an identifier (letters, digits, _), so that {user.${a.name}} can read it`));
      continue;
    }
    const expected = model.attributeTypes[a.name];
    if (expected !== undefined && expected !== a.type) {
      const first = model.users.find((u) => u.attributes.some((x) => x.name === a.name && x.type === expected));
      const where = first ? `for user \`${first.name}\` (line ${first.attributes.find((x) => x.name === a.name)!.pos.line})` : 'in an app context';
      out.push(error(a.pos, `attribute \`${a.name}\` is ${typeWords(a.type)} here but ${typeWords(expected)} ${where}; an attribute has one type for everyone`));
    }
  }
  return out;
}

export function checkApp(model: PolicyModel, app: AppDef): Diagnostic[] {
  const out: Diagnostic[] = [...checkPassword(`app \`${app.name}\``, app.password)];
  for (const c of app.context) {
    if (!ATTRIBUTE_NAME.test(c.attribute)) {
      out.push(error(c.pos, `context attribute \`${c.attribute}\` must be an identifier (letters, digits, _)`));
    }
    if (!CUSTOM_SETTING.test(c.setting)) {
      out.push(error(c.pos, `\`${c.setting}\` is not a custom setting name: use a prefix and a dot, such as app.${/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.setting) ? c.setting : 'current_tenant'}`));
    }
    const builtin = BUILTIN_ATTRIBUTES[c.attribute];
    const userType = model.users.flatMap((u) => u.attributes).find((a) => a.name === c.attribute)?.type;
    const expected = builtin ?? userType;
    if (expected !== undefined && expected !== c.type) {
      out.push(error(c.pos, `context \`${c.attribute}\` is read as ${c.type}, but {user.${c.attribute}} is ${expected}${builtin ? '' : ' (from users\' attributes)'}; set \`type: ${expected}\``));
    }
  }
  return out;
}
