// SCRAM-SHA-256 verifiers computed client-side (src/pg/scram.ts), checked against RFC 7677's example exchange.
import { createHash, createHmac } from 'node:crypto';
import { describe, expect, test } from 'vitest';
import { isScramVerifier, scramMatches, scramVerifier } from '../../../src/pg/scram.js';

const FORMAT = /^SCRAM-SHA-256\$4096:[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=:[A-Za-z0-9+/]{43}=$/;

describe('scramVerifier', () => {
  test("RFC 7677's example: the verifier's keys check the client proof and produce the server signature", () => {
    const salt = 'W22ZaJ0SNY7soEsUEjb6gQ==';
    const verifier = scramVerifier('pencil', Buffer.from(salt, 'base64'));
    const m = /^SCRAM-SHA-256\$4096:(.+)\$(.+):(.+)$/.exec(verifier);
    expect(m?.[1]).toBe(salt);
    const storedKey = Buffer.from(m?.[2] as string, 'base64');
    const serverKey = Buffer.from(m?.[3] as string, 'base64');
    const nonce = 'rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0';
    const authMessage = `n=user,r=rOprNGfwEbeRWgbNEkqO,r=${nonce},s=${salt},i=4096,c=biws,r=${nonce}`;
    // Server signature (the `v=` of the server-final-message).
    expect(createHmac('sha256', serverKey).update(authMessage).digest('base64')).toBe('6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=');
    // The server's check of the client proof: H(ClientProof XOR ClientSignature) == StoredKey.
    const proof = Buffer.from('dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=', 'base64');
    const signature = createHmac('sha256', storedKey).update(authMessage).digest();
    const clientKey = Buffer.from(proof.map((b, i) => b ^ (signature[i] as number)));
    expect(createHash('sha256').update(clientKey).digest().equals(storedKey)).toBe(true);
  });

  test('a fixed salt gives a fixed verifier (computed independently with Python hashlib)', () => {
    const salt = Buffer.from([...Array(16).keys()]);
    expect(scramVerifier('Demo1234!', salt)).toBe(
      'SCRAM-SHA-256$4096:AAECAwQFBgcICQoLDA0ODw==$J1jXTOeWEUFg6WuH2nvB203FbjVu4uVLP98lUaAtNxo=:leIizECXWv14tHkmesdhALmS5I45qFsHQSsdeUVGvXU=',
    );
  });

  test('format: SCRAM-SHA-256$4096:<16-byte salt>$<StoredKey>:<ServerKey>, a fresh salt each time', () => {
    const a = scramVerifier('Demo1234!');
    const b = scramVerifier('Demo1234!');
    expect(a).toMatch(FORMAT);
    expect(b).toMatch(FORMAT);
    expect(a).not.toBe(b);
    expect(isScramVerifier(a)).toBe(true);
    expect(isScramVerifier('md5abcdef')).toBe(false);
    expect(isScramVerifier('Demo1234!')).toBe(false);
  });

  test('other iteration counts are written into the verifier', () => {
    expect(scramVerifier('x', Buffer.alloc(16), 10)).toMatch(/^SCRAM-SHA-256\$10:AAAAAAAAAAAAAAAAAAAAAA==\$/);
  });
});

describe('scramMatches', () => {
  test('the right password matches, a wrong one does not, a malformed verifier never does', () => {
    const v = scramVerifier('Demo1234!');
    expect(scramMatches('Demo1234!', v)).toBe(true);
    expect(scramMatches('Demo1234?', v)).toBe(false);
    expect(scramMatches('', v)).toBe(false);
    expect(scramMatches('Demo1234!', 'md5c5f4e5f0f4d7c8b1a2')).toBe(false);
    expect(scramMatches('Demo1234!', '')).toBe(false);
  });

  test('uses the iteration count of the verifier', () => {
    const v = scramVerifier('pw', Buffer.from('0123456789abcdef'), 16);
    expect(scramMatches('pw', v)).toBe(true);
    expect(scramMatches('pw', v.replace('$16:', '$17:'))).toBe(false);
  });
});
