import { createHash } from 'node:crypto';
import type { Queryable } from '../db.js';

/**
 * DPoP proofs seen (RFC 9449 §11.1). Contract: `firstUse` records a proof's (key, jti) until
 * `expiresAt` and says whether it was the first to do so; of any number of concurrent calls with
 * one pair, in any number of processes, exactly one returns true (one INSERT … ON CONFLICT DO
 * NOTHING, the primary key decides).
 */
export interface DpopProofsRepository {
  firstUse(jkt: string, jti: string, expiresAt: Date): Promise<boolean>;
}

export function dpopProofsRepository(db: Queryable): DpopProofsRepository {
  return {
    async firstUse(jkt, jti, expiresAt) {
      // Hashed: a jti is up to 256 characters of the client's choosing; the key stays 43.
      const key = createHash('sha256').update(jkt).update('\0').update(jti).digest('base64url');
      const r = await db.query(
        'INSERT INTO dpop_proofs (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING RETURNING 1',
        [key, expiresAt],
        {
          name: 'dpop_proofs.first_use',
        },
      );
      return r.rowCount > 0;
    },
  };
}
