import type { ClientRecord } from '../domain/client.js';
import { verifyClientSecret, type ServerSecrets } from '../keys/secret.js';
import { invalidClient } from '../oauth/errors.js';

/** client_secret_basic and client_secret_post check the same thing: the secret's HMAC. */
export function verifySecret(secrets: ServerSecrets, client: ClientRecord, secret: string, triedBasic: boolean): void {
  if (!client.secretHash || !verifyClientSecret(secrets, secret, client.secretHash)) {
    throw invalidClient('client authentication failed: the client secret is wrong for this client_id', triedBasic);
  }
}
