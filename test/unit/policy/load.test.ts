import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { checkPolicyFile } from '../../../src/policy/check.js';
import { decodeUtf8, firstInvalidUtf8 } from '../../../src/policy/load.js';
import { brief } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tenantctl-policy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

describe('reading the file', () => {
  test('non-UTF-8 input is an error at the first bad byte', async () => {
    const path = file('latin1.yaml', Buffer.concat([Buffer.from('version: 1\nusers:\n  - name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
    const result = await checkPolicyFile(path, 'policies.yaml');
    expect(result.errors.map(brief)).toEqual(['3:14: the file is not valid UTF-8 (byte 0xE9); save it as UTF-8']);
  });

  test('files over 5 MiB are refused before reading', async () => {
    const path = file('huge.yaml', 'version: 1\n');
    truncateSync(path, 6 * 1024 * 1024);
    const result = await checkPolicyFile(path, 'policies.yaml');
    expect(result.errors.map(brief)).toEqual(['1:1: the file is 6.0 MiB; a policy file may be at most 5 MiB']);
  });

  test('a missing file is an error, not a crash', async () => {
    const result = await checkPolicyFile(join(dir, 'nope.yaml'), 'nope.yaml');
    expect(result.errors.map(brief)).toEqual(['1:1: cannot read the policy file: no such file']);
  });

  test('a UTF-8 byte-order mark is ignored and multi-byte text keeps columns in characters', async () => {
    const path = file('bom.yaml', '\uFEFFversion: 1\nusers:\n  - { name: zoë, tenant: Ünïcode }\n');
    const result = await checkPolicyFile(path, 'policies.yaml');
    expect(result.errors.map(brief)).toEqual([
      "3:26: tenant `Ünïcode` is not a tenant slug: 3-40 characters, lowercase letters, digits and '-', starting and ending with a letter or digit",
    ]);
  });

  test('UTF-8 checking rejects overlong forms and surrogates and accepts 4-byte characters', () => {
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xc0, 0x80]))).toBe(1);
    expect(firstInvalidUtf8(new Uint8Array([0xed, 0xa0, 0x80]))).toBe(0);
    expect(firstInvalidUtf8(new Uint8Array([0x61, 0xe2, 0x82]))).toBe(1);
    expect(firstInvalidUtf8(Buffer.from('a😀b'))).toBe(-1);
    expect(decodeUtf8(Buffer.from('\uFEFFx'), 'f')).toBe('x');
  });
});
