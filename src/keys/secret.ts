import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataDirError, ensurePrivateDirectory, ensurePrivateFile } from '../platform/private-files.js';

/**
 * Everything Latchkey keeps secret at rest is keyed from LATCHKEY_SECRET through HKDF (RFC 5869),
 * one derived key per purpose, so a key for one job can never be mistaken for another's.
 */
export interface ServerSecrets {
  /** AES-256-GCM key that encrypts private signing keys. */
  readonly keyEncryptionKey: Buffer;
  /** HMAC-SHA256 key for client secret hashes. */
  readonly clientSecretKey: Buffer;
  /** HMAC key for CSRF tokens bound to a browser session. */
  readonly csrfKey: Buffer;
  /**
   * The admin console's own client secret (src/admin/console/console-client.ts): every process
   * derives the same one, and nobody outside the server knows it, so the built-in client cannot
   * be used at the token endpoint by anyone else.
   */
  readonly consoleClientSecret: string;
  /** HMAC key of DPoP server nonces (RFC 9449 §8, tokens/dpop-nonce.ts): every process accepts every process's nonces. */
  readonly dpopNonceKey: Buffer;
  /** AES-256-GCM key that encrypts users' TOTP secrets (RFC 6238 shared secrets) at rest. */
  readonly totpKey: Buffer;
  /** The account page's built-in client secret (src/account/account-client.ts), like the console's. */
  readonly accountClientSecret: string;
}

export function deriveSecrets(secret: string): ServerSecrets {
  const ikm = Buffer.from(secret, 'utf8');
  const derive = (info: string) => Buffer.from(hkdfSync('sha256', ikm, 'latchkey', info, 32));
  return Object.freeze({
    keyEncryptionKey: derive('latchkey key-encryption v1'),
    clientSecretKey: derive('latchkey client-secret v1'),
    csrfKey: derive('latchkey csrf v1'),
    consoleClientSecret: derive('latchkey console-client v1').toString('base64url'),
    dpopNonceKey: derive('latchkey dpop-nonce v1'),
    totpKey: derive('latchkey totp-secret v1'),
    accountClientSecret: derive('latchkey account-client v1').toString('base64url'),
  });
}

export const SECRET_FILE = 'secret';

/**
 * Embedded mode without LATCHKEY_SECRET: generate one into DATA_DIR (mode 0600, in a 0700
 * directory) the first time, read it afterwards. Returns whether it was just created, and what
 * had to be tightened, so the caller can warn.
 */
export function loadOrCreateSecretFile(dataDir: string): { secret: string; created: boolean; notices: string[] } {
  const notices: string[] = [];
  const dirNotice = ensurePrivateDirectory(dataDir);
  if (dirNotice) notices.push(dirNotice);
  const path = join(dataDir, SECRET_FILE);
  if (existsSync(path)) {
    const fileNotice = ensurePrivateFile(path);
    if (fileNotice) notices.push(fileNotice);
    const secret = readFileSync(path, 'utf8').trim();
    if (secret.length < 32) throw new DataDirError(`${path} holds fewer than 32 characters; restore it from a backup`);
    return { secret, created: false, notices };
  }
  const secret = randomBytes(48).toString('base64url');
  writeFileSync(path, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return { secret, created: true, notices };
}

/** HMAC-SHA256 of a client secret: sub-microsecond to check, useless to a thief without the key. */
export function hashClientSecret(secrets: ServerSecrets, clientSecret: string): string {
  return `hmac-sha256:${createHmac('sha256', secrets.clientSecretKey).update(clientSecret, 'utf8').digest('base64url')}`;
}

export function verifyClientSecret(secrets: ServerSecrets, clientSecret: string, stored: string): boolean {
  const a = Buffer.from(hashClientSecret(secrets, clientSecret));
  const b = Buffer.from(stored);
  return a.length === b.length && timingSafeEqual(a, b);
}
