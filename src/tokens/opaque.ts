import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque credentials (authorization codes, session ids, later refresh tokens and device codes):
 * 256 bits of randomness (docs/security.md item 16), stored only as a SHA-256 hash — a fast hash is
 * right for high-entropy server-made secrets (docs/architecture.md).
 */
export function newOpaqueToken(): string {
  return randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('base64url');
}

/** A shorter random id for rows that are not credentials on their own (grants, interactions). */
export function newId(): string {
  return randomBytes(16).toString('base64url');
}
