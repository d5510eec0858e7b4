// The launcher registers only the command a run names (its module loaded on demand), and every command when
// the run names none it knows: help, --version, typos (which then get commander's suggestion).
import { describe, expect, test } from 'vitest';
import { buildProgram } from '../../../src/cli/main.js';

const ALL = ['validate', 'schema', 'plan', 'apply', 'diff', 'migrate', 'demo', 'tenant', 'apikey', 'audit', 'test', 'lint'];
const registered = async (...args: string[]): Promise<string[]> => (await buildProgram(['node', 'tenantctl', ...args])).commands.map((c) => c.name());

describe('buildProgram', () => {
  test('a run of plan registers plan and apply (one module), nothing else', async () => {
    expect(await registered('plan', 'policies.yaml', '--format', 'json')).toEqual(['plan', 'apply']);
  });

  test('global options before the command do not hide it', async () => {
    expect(await registered('--debug', 'tenant', 'list')).toEqual(['tenant']);
  });

  test('--help, --version, `help <command>`, no command and an unknown one register every command, in help order', async () => {
    for (const args of [['--help'], ['--version'], ['help', 'plan'], [], ['plna', 'x.yaml']]) expect(await registered(...args)).toEqual(ALL);
  });

  test('a misspelt command still gets the suggestion', async () => {
    const program = await buildProgram(['node', 'tenantctl', 'plna']);
    let message = '';
    program.configureOutput({ writeErr: (s) => (message += s) });
    program.exitOverride();
    expect(() => program.parse(['node', 'tenantctl', 'plna'])).toThrow();
    expect(message).toContain("error: unknown command 'plna'");
    expect(message).toContain('(Did you mean plan?)');
  });
});
