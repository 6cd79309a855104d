import type { PasswordHasher } from './password.js';
import { PasswordVerifierBusyError, type PasswordVerifier } from './password-verifier.js';

export type PasswordUpgrade = 'current' | 'upgraded' | 'changed_meanwhile' | 'busy';

/**
 * After a successful sign-in: if the stored hash was made with other parameters than the
 * configured ones (older defaults, another argon2 variant), hashes the password just verified
 * with the current ones and stores it in place of that exact hash (UsersRepository
 * .replacePasswordHash), so a password changed meanwhile is never overwritten. The password is
 * only known at sign-in, so this is the only moment an old hash can be upgraded. When every
 * password slot is busy the upgrade waits for a later sign-in rather than failing this one.
 */
export async function upgradePasswordHash(
  deps: {
    hasher: Pick<PasswordHasher, 'needsRehash'>;
    verifier: Pick<PasswordVerifier, 'rehash'>;
    users: { replacePasswordHash(id: string, oldHash: string, newHash: string): Promise<boolean> };
  },
  user: { id: string; passwordHash: string },
  password: string,
): Promise<PasswordUpgrade> {
  if (!deps.hasher.needsRehash(user.passwordHash)) return 'current';
  let newHash: string;
  try {
    newHash = await deps.verifier.rehash(password);
  } catch (err) {
    if (err instanceof PasswordVerifierBusyError) return 'busy';
    throw err;
  }
  return (await deps.users.replacePasswordHash(user.id, user.passwordHash, newHash)) ? 'upgraded' : 'changed_meanwhile';
}
