// SCRAM-SHA-256 verifiers computed client-side, so a password's plaintext never reaches the server (or its
// logs): `CREATE ROLE ... PASSWORD 'SCRAM-SHA-256$...'` stores the verifier as it is.
// Hand-written because it is the few lines RFC 5802/7677 define (PBKDF2 + two HMACs + SHA-256) and no
// well-kept package exposes verifier *creation* without a client connection; node:crypto does the work.
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

const ITERATIONS = 4096; // PostgreSQL's scram_iterations default

export function scramVerifier(password: string, salt: Buffer = randomBytes(16), iterations = ITERATIONS): string {
  // PostgreSQL runs SASLprep on the password; for the ASCII passwords this tool is given it is the identity.
  const salted = pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

const FORMAT = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;

export function isScramVerifier(text: string): boolean {
  return FORMAT.test(text);
}

/** Does `verifier` (as stored in pg_authid) accept `password`? Recomputed with the verifier's own salt. */
export function scramMatches(password: string, verifier: string): boolean {
  const m = FORMAT.exec(verifier);
  if (!m) return false;
  const again = scramVerifier(password, Buffer.from(m[2] as string, 'base64'), Number(m[1]));
  const a = Buffer.from(again);
  const b = Buffer.from(verifier);
  return a.length === b.length && timingSafeEqual(a, b);
}
