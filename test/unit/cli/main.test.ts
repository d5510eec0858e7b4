// The launcher registers only the command a run names (its module loaded on demand), and every command when
// the run names none it knows: help, typos (which then get commander's suggestion); none for --version alone.
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

  test('--help, `help <command>`, no command and an unknown one register every command, in help order', async () => {
    for (const args of [['--help'], ['--version', '--help'], ['help', 'plan'], [], ['plna', 'x.yaml']]) expect(await registered(...args)).toEqual(ALL);
  });

  test('--version alone registers no command, and prints the version', async () => {
    for (const args of [['--version'], ['-V'], ['--debug', '--version']]) expect(await registered(...args)).toEqual([]);
    const program = await buildProgram(['node', 'tenantctl', '--version']);
    let printed = '';
    program.configureOutput({ writeOut: (s) => (printed += s) });
    expect(() => program.parse(['node', 'tenantctl', '--version'])).toThrow();
    expect(printed).toMatch(/^\d+\.\d+\.\d+\n$/);
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
