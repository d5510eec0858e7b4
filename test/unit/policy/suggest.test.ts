import { describe, expect, test } from 'vitest';
import { editDistance, suggest } from '../../../src/policy/suggest.js';

describe('suggest', () => {
  test('edit distance counts a transposition as one edit', () => {
    expect(editDistance('tabels', 'tables')).toBe(1);
    expect(editDistance('ssm', 'ssn')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });

  test('suggests only near names', () => {
    expect(suggest('ssm', ['ssn', 'email'])).toBe('ssn');
    expect(suggest('tenant-isolaton', ['tenant-isolation', 'tenant-isolation-children'])).toBe('tenant-isolation');
    expect(suggest('Alice', ['alice'])).toBe('alice');
    expect(suggest('xyz', ['alice', 'bob'])).toBeUndefined();
    expect(suggest('ab', ['xy'])).toBeUndefined();
  });
});
