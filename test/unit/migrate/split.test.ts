import { describe, expect, it } from 'vitest';
import { splitStatements } from '../../../src/migrate/runner.js';

describe('splitStatements (no-transaction migrations)', () => {
  it('splits with the real parser, keeps semicolons inside strings and bodies, and reports start lines', async () => {
    const script = [
      '-- tenantctl:no-transaction',
      'CREATE INDEX CONCURRENTLY a_idx ON t (a);',
      '',
      "INSERT INTO t VALUES ('x;y');",
      '-- a comment; with a semicolon',
      'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;',
    ].join('\n');
    expect(await splitStatements(script)).toEqual([
      { text: 'CREATE INDEX CONCURRENTLY a_idx ON t (a)', line: 2 },
      { text: "INSERT INTO t VALUES ('x;y')", line: 4 },
      { text: 'CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql', line: 6 },
    ]);
  });

  it('a syntax error is reported by the parser', async () => {
    await expect(splitStatements('CREATE INDEX ON;')).rejects.toThrow(/syntax error/);
  });
});
