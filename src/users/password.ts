import argon2 from 'argon2';

/**
 * argon2id's cost parameters (RFC 9106 §3.1): memory in KiB, iterations (passes over it) and
 * lanes. The encoded hash carries the ones it was made with (`$argon2id$v=19$m=…,t=…,p=…$…`).
 */
export interface PasswordHashParameters {
  memoryKib: number;
  iterations: number;
  parallelism: number;
}

/**
 * The default: OWASP's Password Storage Cheat Sheet, argon2id with m = 19 MiB, t = 2, p = 1 (its
 * first listed configuration; each costs about the same CPU). Set with PASSWORD_HASH_MEMORY_KIB,
 * PASSWORD_HASH_ITERATIONS and PASSWORD_HASH_PARALLELISM.
 */
export const OWASP_ARGON2ID: PasswordHashParameters = Object.freeze({ memoryKib: 19_456, iterations: 2, parallelism: 1 });

/** The configured parameters (src/config.ts bounds them). */
export const passwordHashParameters = (config: {
  passwordHashMemoryKib: number;
  passwordHashIterations: number;
  passwordHashParallelism: number;
}): PasswordHashParameters => ({
  memoryKib: config.passwordHashMemoryKib,
  iterations: config.passwordHashIterations,
  parallelism: config.passwordHashParallelism,
});

/**
 * User passwords (docs/security.md item 27): hashed with the configured parameters; verified with
 * the parameters each stored hash carries, so raising them never locks anyone out; a hash made
 * with other parameters (or another argon2 variant) `needsRehash`, and the sign-in upgrades it.
 */
export class PasswordHasher {
  constructor(readonly parameters: PasswordHashParameters = OWASP_ARGON2ID) {}

  hash(password: string): Promise<string> {
    return argon2.hash(password, {
      type: argon2.argon2id,
      memoryCost: this.parameters.memoryKib,
      timeCost: this.parameters.iterations,
      parallelism: this.parameters.parallelism,
    });
  }

  /** True when `hash` was not made with argon2id and the current parameters. */
  needsRehash(hash: string): boolean {
    if (!hash.startsWith('$argon2id$')) return true;
    try {
      return argon2.needsRehash(hash, {
        memoryCost: this.parameters.memoryKib,
        timeCost: this.parameters.iterations,
        parallelism: this.parameters.parallelism,
      });
    } catch {
      return true; // unreadable: it never verifies anyway, so this is never acted on
    }
  }
}

/** Checks a password against a stored hash, with the parameters the hash carries. */
export async function verifyPassword(hash: string, password: string): Promise<boolean> {
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false; // a malformed stored hash never lets anyone in
  }
}

export const MIN_PASSWORD_LENGTH = 8;
export const MAX_PASSWORD_LENGTH = 1024;
