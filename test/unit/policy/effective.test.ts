import { describe, expect, test } from 'vitest';
import { checkPolicyText } from '../../../src/policy/check.js';
import { effectiveAssignments } from '../../../src/policy/effective.js';
import { chooseMask, type MaskAssignment } from '../../../src/policy/masks.js';
import type { PolicyModel } from '../../../src/policy/model.js';

const TEXT = `version: 1
roles: [{ name: support }, { name: finance }]
users:
  - { name: alice, roles: [support] }
  - { name: bob, roles: [support, finance] }
  - { name: carol }
apps:
  - { name: shop }
policies:
  - { name: m-all, type: column_mask, table: customers, column: ssn, mask: "'a'" }
  - { name: m-role, type: column_mask, table: customers, column: ssn, mask: "'r'" }
  - { name: m-user, type: column_mask, table: customers, column: ssn, mask: "'u'" }
  - { name: deny, type: table_deny, tables: [payments] }
assignments:
  - { policy: m-all, to: all }
  - { policy: m-role, to: { role: support }, except: { role: finance } }
  - { policy: m-user, to: [{ user: carol }, { app: shop }], priority: 200 }
  - { policy: deny, to: [all, { role: support }], except: [{ user: alice }] }
`;

async function model(): Promise<PolicyModel> {
  const r = await checkPolicyText(TEXT);
  if (!r.model) throw new Error(JSON.stringify(r.errors));
  return r.model;
}

describe('effective assignments', () => {
  test('to/except with roles, users, apps and all; the most specific route is kept', async () => {
    const m = await model();
    const of = (name: string) => {
      const p = [...m.users, ...m.apps].find((x) => x.name === name)!;
      return effectiveAssignments(m, p).map((e) => `${e.policy.name}:${e.via}${e.role ? `(${e.role})` : ''}`);
    };
    expect(of('alice')).toEqual(['m-all:all', 'm-role:role(support)']);
    expect(of('bob')).toEqual(['m-all:all', 'deny:role(support)']);
    expect(of('carol')).toEqual(['m-all:all', 'm-user:direct', 'deny:all']);
    expect(of('shop')).toEqual(['m-all:all', 'm-user:direct', 'deny:all']);
  });

  test('mask choice: lowest priority, then user/app over role over all', async () => {
    const m = await model();
    const winner = (name: string) => {
      const p = [...m.users, ...m.apps].find((x) => x.name === name)!;
      const choice = chooseMask(effectiveAssignments(m, p).filter((e): e is MaskAssignment => e.policy.type === 'column_mask'));
      return choice.kind === 'winner' ? choice.winner.policy.name : 'tie';
    };
    expect(winner('alice')).toBe('m-role');
    expect(winner('bob')).toBe('m-all');
    // m-user is more specific but has priority 200: the lower priority of m-all wins.
    expect(winner('carol')).toBe('m-all');
    expect(winner('shop')).toBe('m-all');
  });
});
