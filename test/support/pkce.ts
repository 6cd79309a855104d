import { createHash, randomBytes } from 'node:crypto';

/**
 * RFC 7636 §4.1–4.2: a code_verifier of 32 random bytes, base64url (43 characters), and its S256
 * code_challenge, BASE64URL(SHA256(ASCII(code_verifier))). For the benchmark and the soak, which
 * mint codes by the thousand; flow tests use openid-client's own (test/helpers/oidc.ts).
 */
export function pkcePair(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: s256Challenge(verifier) };
}

export function s256Challenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}
