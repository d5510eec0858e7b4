import { describe, expect, it } from 'vitest';
import { generateKey, KEY_PATTERN, parseKey } from '../../../src/apikey/keys.js';

describe('API key format', () => {
  it('generates tk_<8 lowercase alphanumerics>_<40 alphanumerics>, distinct every time', () => {
    const keys = Array.from({ length: 200 }, () => generateKey());
    for (const k of keys) {
      expect(k.key).toMatch(/^tk_[a-z0-9]{8}_[A-Za-z0-9]{40}$/);
      expect(k.key).toBe(`tk_${k.prefix}_${k.secret}`);
      expect(parseKey(k.key)).toEqual({ prefix: k.prefix, secret: k.secret });
    }
    expect(new Set(keys.map((k) => k.key)).size).toBe(200);
  });

  it('parses only well-formed keys', () => {
    const good = `tk_abcd1234_${'A'.repeat(40)}`;
    expect(parseKey(good)).toEqual({ prefix: 'abcd1234', secret: 'A'.repeat(40) });
    expect(parseKey(`  ${good}\n`)).toEqual({ prefix: 'abcd1234', secret: 'A'.repeat(40) });
    for (const bad of ['', 'tk_', `tk_ABCD1234_${'A'.repeat(40)}`, `tk_abcd123_${'A'.repeat(40)}`, `tk_abcd1234_${'A'.repeat(39)}`, `tk_abcd1234_${'A'.repeat(39)}-`, `xx_abcd1234_${'A'.repeat(40)}`]) {
      expect(parseKey(bad), bad).toBeUndefined();
      expect(KEY_PATTERN.test(bad)).toBe(false);
    }
  });
});

describe('the dummy hash verified for unknown keys', () => {
  it('has the same argon2id parameters as stored hashes', async () => {
    const { hash } = await import('@node-rs/argon2');
    const { ARGON2, DUMMY_HASH } = await import('../../../src/apikey/keys.js');
    const real = await hash('x', ARGON2);
    expect(real).toMatch(/^\$argon2id\$/);
    expect(DUMMY_HASH.split('$').slice(0, 4)).toEqual(real.split('$').slice(0, 4));
  });
});
