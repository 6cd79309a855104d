import type { ClientRecord } from '../domain/client.js';
import { verifyClientSecret, type ServerSecrets } from '../keys/secret.js';
import { invalidClient } from '../oauth/errors.js';

/**
 * client_secret_basic and client_secret_post check the same thing: the secret's HMAC, against the
 * current secret or, until its overlap ends, the one a rotation replaced (migration 016).
 */
export function verifySecret(secrets: ServerSecrets, client: ClientRecord, secret: string, triedBasic: boolean, now: number): void {
  const current = client.secretHash !== null && verifyClientSecret(secrets, secret, client.secretHash);
  const previous =
    !current &&
    client.previousSecret !== undefined &&
    client.previousSecret.expiresAt.getTime() > now &&
    verifyClientSecret(secrets, secret, client.previousSecret.hash);
  if (!current && !previous) {
    throw invalidClient('client authentication failed: the client secret is wrong for this client_id', triedBasic);
  }
}
