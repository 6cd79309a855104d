import type { Clock } from '../clock.js';
import type { Db } from '../store/db.js';
import { keysRepository } from '../store/repositories/keys.js';
import { KeyDecryptionError, decryptPrivateKey } from './encryption.js';
import { ensureSigningKeys } from './keystore.js';
import type { ServerSecrets } from './secret.js';

/**
 * A database's secret is the one its signing keys are sealed under. A secret that cannot open
 * them is another secret: the server refuses to start with it, and a CLI using it would store
 * client-secret hashes that never verify — refused the same way. A database without keys yet gets
 * them now, sealed under this secret (as a server's first start does), so that whatever is stored
 * with it next is bound to it. Returns the kids it generated.
 */
export async function bindSecretToDatabase(db: Db, secrets: ServerSecrets, clock: Clock): Promise<string[]> {
  const repo = keysRepository(db);
  const created = await ensureSigningKeys(repo, secrets.keyEncryptionKey, clock);
  const keys = await repo.listPublished(new Date(clock.now()));
  const newest = keys.reduce<(typeof keys)[number] | undefined>((a, k) => (!a || k.active_from > a.active_from ? k : a), undefined);
  if (!newest) return created;
  try {
    decryptPrivateKey(secrets.keyEncryptionKey, newest.kid, newest.private_jwk_enc);
  } catch (err) {
    if (!(err instanceof KeyDecryptionError)) throw err;
    throw new KeyDecryptionError(
      `LATCHKEY_SECRET is not the secret this database was set up with (signing key ${newest.kid} does not decrypt with it): use the server's LATCHKEY_SECRET (embedded mode without it: DATA_DIR/secret)`,
    );
  }
  return created;
}
