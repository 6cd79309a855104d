import type { Db } from '../store/db.js';
import { keysRepository } from '../store/repositories/keys.js';
import { KeyDecryptionError, decryptPrivateKey } from './encryption.js';
import type { ServerSecrets } from './secret.js';

/**
 * The signing keys are sealed under the secret the database was set up with, so a secret that
 * cannot open them is another secret: the server refuses to start with it, and a CLI using it
 * would store client-secret hashes that never verify. Refuses it the same way. A database without
 * keys yet accepts any secret (its keys will be sealed under it).
 */
export async function assertSecretOpensKeys(db: Db, secrets: ServerSecrets): Promise<void> {
  const keys = await keysRepository(db).listPublished(new Date());
  const newest = keys.reduce<(typeof keys)[number] | undefined>((a, k) => (!a || k.active_from > a.active_from ? k : a), undefined);
  if (!newest) return;
  try {
    decryptPrivateKey(secrets.keyEncryptionKey, newest.kid, newest.private_jwk_enc);
  } catch (err) {
    if (!(err instanceof KeyDecryptionError)) throw err;
    throw new KeyDecryptionError(
      `LATCHKEY_SECRET is not the secret this database was set up with (signing key ${newest.kid} does not decrypt with it): use the server's LATCHKEY_SECRET (embedded mode without it: DATA_DIR/secret)`,
    );
  }
}
