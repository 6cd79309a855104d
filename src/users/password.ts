import argon2 from 'argon2';

/**
 * User passwords: argon2id (docs/security.md item 27) with the library's defaults (m = 64 MiB, t = 3,
 * p = 4), which cost about 200 ms — fine for a login, never on the machine-to-machine path.
 */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, { type: argon2.argon2id });
}

export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash never lets anyone in
  }
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;
