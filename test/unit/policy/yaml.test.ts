// The YAML layer (src/policy/yaml.ts): the value is js-yaml's, the positions come from the same events.
// Differential checks against the `yaml` package (the parser tenantctl used before, kept for tests and benches)
// show that the switch does not change what any shipped or corpus file means.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse as yamlPackageParse } from 'yaml';
import { parsePolicyText } from '../../../src/policy/load.js';
import { positionAt, scalarCharPositions } from '../../../src/policy/locate.js';
import { MAX_ALIAS_EXPANSION, parseYaml } from '../../../src/policy/yaml.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) =>
    d.isDirectory() ? (d.name === 'node_modules' ? [] : yamlFiles(join(dir, d.name))) : /\.ya?ml$/.test(d.name) ? [join(dir, d.name)] : [],
  );
}

function source(text: string) {
  const r = parsePolicyText(text, 'f.yaml');
  if (!r.ok) throw new Error(r.diagnostics.map((d) => d.message).join('\n'));
  return r.source;
}

const at = (text: string, path: (string | number)[], part: 'key' | 'value' = 'value') => {
  const p = positionAt(source(text), path, part);
  return `${p.line}:${p.column}`;
};

describe('values: the same as the yaml package (YAML 1.2 core schema) reads them', () => {
  const files = [...yamlFiles(join(ROOT, 'fixtures')), ...yamlFiles(join(ROOT, 'test'))];

  it.each(files.map((f) => [f.slice(ROOT.length), f]))('%s', (_name, file) => {
    const text = readFileSync(file, 'utf8');
    let expected: unknown;
    try {
      expected = yamlPackageParse(text, { version: '1.2', uniqueKeys: true });
    } catch {
      // Broken on purpose (the corpus): js-yaml must refuse it too.
      expect(parseYaml(text).ok).toBe(false);
      return;
    }
    const r = parseYaml(text);
    if (r.ok) expect(r.value).toEqual(expected ?? null);
    // Files the yaml package accepts but js-yaml refuses must be errors with a position, never a different value.
    else expect(r.offset).toBeGreaterThanOrEqual(0);
  });

  it('scalars that differ between YAML 1.1 and 1.2 read as 1.2', () => {
    const r = parseYaml('a: yes\nb: on\nc: 0b101\nd: 010\ne: 0o17\nf: 0x1F\ng: 1_000\nh: 2024-01-02\ni: .inf\nj: ~\nk: 1e3\nl: "007"\n<<: x\n');
    expect(r.ok && r.value).toEqual({ a: 'yes', b: 'on', c: '0b101', d: 10, e: 15, f: 31, g: '1_000', h: '2024-01-02', i: Infinity, j: null, k: 1000, l: '007', '<<': 'x' });
  });

  it('random flat mappings of scalars read the same as the yaml package reads them', () => {
    const scalar = fc.oneof(
      fc.constantFrom('true', 'False', 'null', '~', '0x1A', '0o7', '-12', '1.5e3', '.NaN', '-.inf', 'yes', 'off', '1_0', '2020-01-01', "'quoted'", '"dq \\t"', ''),
      fc.stringMatching(/^[a-z][a-z0-9 _.-]{0,12}$/),
    );
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/), scalar), { selector: (t) => t[0], maxLength: 8 }), (pairs) => {
        const text = pairs.map(([k, v]) => `${k}: ${v}`).join('\n') + '\n';
        const r = parseYaml(text);
        expect(r.ok).toBe(true);
        expect(r.ok && r.value).toEqual(yamlPackageParse(text, { version: '1.2' }) ?? null);
      }),
      { numRuns: 300 },
    );
  });
});

describe('positions', () => {
  const text = [
    'version: 1', //                                  1
    'users:', //                                      2
    '  - name: alice', //                             3
    "    tenant: 'acme'", //                          4
    '    roles: [a, "b"]', //                         5
    '    attributes:', //                             6
    '      region:', //                               7
    'policies:', //                                   8
    '  - name: p', //                                 9
    '    filter: |', //                              10
    '      org = {user.tenant}', //                  11
    '    tables: &t', //                             12
    '      - orders', //                             13
    '  - name: q', //                                14
    '    tables: *t', //                             15
    '    mask: !!str >-', //                         16
    '      x', //                                    17
    '~: 1', //                                       18
    '0x10: 2', //                                    19
    '',
  ].join('\n');

  it('finds keys, plain, quoted and block scalars, flow items and empty values where they are written', () => {
    expect(at(text, ['version'])).toBe('1:10');
    expect(at(text, ['users'], 'key')).toBe('2:1');
    expect(at(text, ['users'])).toBe('3:3');
    expect(at(text, ['users', 0])).toBe('3:5');
    expect(at(text, ['users', 0, 'name'])).toBe('3:11');
    expect(at(text, ['users', 0, 'tenant'])).toBe('4:13');
    expect(at(text, ['users', 0, 'roles'])).toBe('5:12');
    expect(at(text, ['users', 0, 'roles', 1])).toBe('5:16');
    expect(at(text, ['users', 0, 'attributes', 'region'], 'key')).toBe('7:7');
    expect(at(text, ['users', 0, 'attributes', 'region'])).toBe('7:14');
    expect(at(text, ['policies', 0, 'filter'])).toBe('10:13');
    expect(at(text, ['policies', 1, 'mask'])).toBe('16:17');
  });

  it('steps through an alias into the anchored node', () => {
    expect(at(text, ['policies', 1, 'tables', 0])).toBe('13:9');
  });

  it('finds keys whose meaning differs from their text (~ is null, 0x10 is 16)', () => {
    expect(at(text, ['null'], 'key')).toBe('18:1');
    expect(at(text, ['16'])).toBe('19:7');
  });

  it('a missing path resolves to its nearest ancestor', () => {
    expect(at(text, ['users', 0, 'password'])).toBe('3:5');
    expect(at(text, ['users', 7, 'name'])).toBe('3:3');
  });

  it('maps each character of a block scalar to its place in the file', () => {
    const chars = scalarCharPositions(source(text), ['policies', 0, 'filter']);
    expect(`${chars[0]!.line}:${chars[0]!.column}`).toBe('11:7');
    expect(`${chars[6]!.line}:${chars[6]!.column}`).toBe('11:13'); // the `{` of {user.tenant}
  });

  it('maps each character of a double-quoted scalar with an escape', () => {
    const chars = scalarCharPositions(source('filter: "a \\"b\\" c"\n'), ['filter']);
    expect(chars.map((c) => c.column).slice(0, 4)).toEqual([10, 11, 13, 14]);
  });
});

describe('errors', () => {
  const err = (text: string) => {
    const r = parsePolicyText(text, 'f.yaml');
    return r.ok ? 'ok' : r.diagnostics.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n');
  };

  it('a second document is reported at its `---`', () => {
    expect(err('version: 1\n# c\n---\nversion: 1\n')).toBe('3:1: YAML syntax error: the file contains more than one YAML document (a second `---`); a policy file is one document');
    expect(err('---\nversion: 1\n---\nversion: 1\n')).toMatch(/^3:1: /);
  });

  it('an alias bomb is refused before anything walks it, at the alias that crosses the limit', () => {
    const lines = ['version: 1', 'a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 1; i <= 7; i++) lines.push(`a${i}: &a${i} [${Array.from({ length: 10 }, () => `*a${i - 1}`).join(', ')}]`);
    const message = err(lines.join('\n') + '\n');
    expect(message).toMatch(new RegExp(`^7:\\d+: YAML error: the aliases \\(\`\\*name\`\\) in this file expand to more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} nodes`));
  });

  it('aliases that add fewer nodes than the limit are fine', () => {
    expect(err('version: 1\na: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n')).toBe('ok');
  });

  it('an alias inside the collection it names is refused', () => {
    expect(err('version: 1\nusers: &u\n  - *u\n')).toBe('3:5: YAML error: the alias `*u` is inside the collection it names: a policy file cannot contain itself');
  });

  it('an unclosed quote or bracket says so; a tab, a duplicate key and a bad entry say where', () => {
    expect(err('version: 1\nusers: [a,\n')).toBe('3:1: YAML syntax error: the file ends inside `[...]`, `{...}` or a quoted string: a bracket or quote is never closed');
    expect(err('version: 1\nx: "abc\n')).toMatch(/^3:1: YAML syntax error: .*quoted/);
    expect(err('version: 1\nversion: 2\n')).toBe('2:1: YAML syntax error: duplicate key: a key may appear only once in a mapping');
    expect(err('a:\n\t- b\n')).toBe('2:1: YAML syntax error: tabs are not allowed as indentation in YAML; use spaces');
  });

  it('empty files, comments only and a bare `---` are empty; `~` is a value (not a mapping)', () => {
    for (const t of ['', '# nothing\n', '---\n', '\n\n']) expect(err(t)).toBe('1:1: the file is empty; a policy file starts with `version: 1`');
    expect(err('~\n')).toBe('ok');
  });
});
