// The one place identifiers and literals become SQL text (src/pg/quote.ts).
import { describe, expect, test } from 'vitest';
import { grantee, ident, literal, qualified } from '../../../src/pg/quote.js';

describe('ident', () => {
  test('always double-quotes, doubling embedded quotes', () => {
    expect(ident('a"b')).toBe('"a""b"');
    expect(ident('customers')).toBe('"customers"');
    expect(ident('Mixed Case')).toBe('"Mixed Case"');
    expect(ident('x"; DROP TABLE t; --')).toBe('"x""; DROP TABLE t; --"');
  });

  test('rejects empty names and NUL bytes', () => {
    expect(() => ident('')).toThrow('empty SQL identifier');
    expect(() => ident('a\u0000b')).toThrow('SQL identifier contains a NUL byte');
  });

  test('qualified quotes both parts', () => {
    expect(qualified('public', 'a"b')).toBe('"public"."a""b"');
  });
});

describe('grantee', () => {
  test("the catalog's public is the keyword PUBLIC; any other name is quoted, case kept", () => {
    expect(grantee('public')).toBe('PUBLIC');
    expect(grantee('Public')).toBe('"Public"');
    expect(grantee('a"b')).toBe('"a""b"');
  });
});

describe('literal', () => {
  test('doubles single quotes', () => {
    expect(literal("it's")).toBe("'it''s'");
    expect(literal("'; DROP TABLE t; --")).toBe("'''; DROP TABLE t; --'");
    expect(literal('')).toBe("''");
  });

  test('an E string with doubled backslashes when there is a backslash', () => {
    expect(literal('a\\b')).toBe("E'a\\\\b'");
    expect(literal("a\\'b")).toBe("E'a\\\\''b'");
  });

  test('NUL bytes throw', () => {
    expect(() => literal('a\u0000b')).toThrow('SQL literal contains a NUL byte');
  });

  test('null, booleans and numbers', () => {
    expect(literal(null)).toBe('NULL');
    expect(literal(true)).toBe('true');
    expect(literal(false)).toBe('false');
    expect(literal(42)).toBe('42');
    expect(literal(-1.5)).toBe('-1.5');
    expect(literal(12345678901234567890n)).toBe('12345678901234567890');
    expect(() => literal(Number.NaN)).toThrow('cannot write NaN as an SQL literal');
    expect(() => literal(Number.POSITIVE_INFINITY)).toThrow('cannot write Infinity as an SQL literal');
  });
});
