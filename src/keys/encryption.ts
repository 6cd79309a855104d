import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Private keys at rest: AES-256-GCM, a fresh 96-bit IV each time, the key id as associated data
 * so a ciphertext cannot be moved onto another key's row. Format: v1.<iv>.<ciphertext>.<tag>.
 */
export function encryptPrivateKey(kek: Buffer, kid: string, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, iv);
  cipher.setAAD(Buffer.from(kid, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv.toString('base64url'), ct.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
}

export class KeyDecryptionError extends Error {
  override name = 'KeyDecryptionError';
  /** Stable, for logs and callers (the message may change). */
  readonly code = 'key_decryption_failed';
}

export function decryptPrivateKey(kek: Buffer, kid: string, sealed: string): string {
  const [v, iv, ct, tag] = sealed.split('.');
  if (v !== 'v1' || !iv || !ct || !tag) throw new KeyDecryptionError(`key ${kid}: unknown encryption format`);
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(kid, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ct, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new KeyDecryptionError(`key ${kid} cannot be decrypted: LATCHKEY_SECRET differs from the one the key was stored with`);
  }
}
